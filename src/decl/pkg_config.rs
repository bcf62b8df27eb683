//! `--pkg-config NAME`: the preprocessor flags a library's `.pc` file gives (`pkg-config --cflags NAME`), as
//! parse options: `-I` directories, `-isystem` / `-idirafter` system directories and `-D` macros. Other flags
//! (`-pthread`, `-f…`, `-m…`) do not change what a header declares and are ignored.

use std::path::PathBuf;

use crate::error::InputError;

/// What a `.pc` file's `Cflags` add to a parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgFlags {
    pub defines: Vec<String>,
    pub include_dirs: Vec<PathBuf>,
    pub system_include_dirs: Vec<PathBuf>,
}

/// Run `pkg-config --cflags NAME` (the `PKG_CONFIG` program when set) and read its flags.
pub fn cflags(name: &str) -> Result<PkgFlags, InputError> {
    let prog = std::env::var("PKG_CONFIG")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "pkg-config".into());
    if name.starts_with('-') || name.is_empty() {
        return Err(InputError::new(
            name,
            "a pkg-config package name (e.g. libcurl)",
            "an option or an empty name",
        ));
    }
    let out = std::process::Command::new(&prog)
        .args(["--cflags", "--", name])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            InputError::new(
                name,
                format!("`{prog}` to run (--pkg-config)"),
                e.to_string(),
            )
            .hint("install pkg-config (Debian: apt-get install pkg-config), or pass -I/-D yourself")
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(InputError::new(
            name,
            "a package pkg-config knows",
            format!("`{prog} --cflags {name}` failed: {}", first.trim()),
        )
        .hint("install the library's -dev package, or set PKG_CONFIG_PATH to the directory of its .pc file"));
    }
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

/// Read `Cflags` text (shell-like words, `\ ` escapes a space).
pub fn parse(text: &str) -> PkgFlags {
    let words = split_words(text);
    let mut f = PkgFlags::default();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        // (flag, where it goes): joined (`-I/x`) or separate (`-I /x`).
        let mut take = |flag: &str| -> Option<String> {
            if w == flag {
                i += 1;
                words.get(i).cloned()
            } else {
                w.strip_prefix(flag).map(str::to_string)
            }
        };
        if let Some(d) = take("-isystem") {
            f.system_include_dirs.push(d.into());
        } else if let Some(d) = take("-idirafter") {
            f.system_include_dirs.push(d.into());
        } else if let Some(d) = take("-I") {
            f.include_dirs.push(d.into());
        } else if let Some(d) = take("-D") {
            f.defines.push(d);
        }
        i += 1;
    }
    f
}

fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_of_a_pc_file() {
        let f = parse(
            "-I/usr/include/x86_64-linux-gnu -I /opt/my\\ lib/include -isystem/opt/sys -DCURL_STATICLIB \
             -D X=1 -pthread -fPIC\n",
        );
        assert_eq!(
            f.include_dirs,
            vec![
                PathBuf::from("/usr/include/x86_64-linux-gnu"),
                PathBuf::from("/opt/my lib/include")
            ]
        );
        assert_eq!(f.system_include_dirs, vec![PathBuf::from("/opt/sys")]);
        assert_eq!(f.defines, vec!["CURL_STATICLIB", "X=1"]);
    }
}
