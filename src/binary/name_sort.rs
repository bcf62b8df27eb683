//! Sorting symbol names: a multikey (three-way radix) quicksort over compact `(name, index)` pairs. Names of a
//! large C++ library share long prefixes (`_ZN4llvm…`), so a comparison sort spends its time re-comparing those
//! prefixes; this sort compares eight bytes at a depth as one cached integer per partition instead, and moves
//! small keys, not the symbol records.

use std::cmp::Ordering;

/// A name and the index of its record.
pub type Key<'a> = (&'a [u8], u32);

/// Below this many keys, insertion sort on the remaining bytes.
const SMALL: usize = 16;

/// Sort `keys` by name bytes (shorter first on a common prefix, as `str` orders), then names that are equal by
/// `tie` on their indices. The result is the order `sort_by(|a, b| a.0.cmp(b.0).then_with(|| tie(a.1, b.1)))`
/// gives, for a `tie` that is a total order.
pub fn sort_keys(keys: &mut [Key<'_>], tie: impl Fn(u32, u32) -> Ordering) {
    // Partitions nest at most this deep before the rest goes to the comparison sort (a hostile table cannot make
    // the recursion deep; the equal middle is iterated, not recursed into).
    let budget = 2 * (usize::BITS - keys.len().leading_zeros()) as usize + 32;
    let mut work: Vec<Cached<'_>> = keys
        .iter()
        .map(|&(name, index)| Cached {
            word: word_at(name, 0),
            name,
            index,
        })
        .collect();
    multikey(&mut work, 0, budget);
    for (k, c) in keys.iter_mut().zip(&work) {
        *k = (c.name, c.index);
    }
    // Runs of equal names, by the tie-breaker.
    let mut start = 0;
    while start < keys.len() {
        let mut end = start + 1;
        while end < keys.len() && keys[end].0 == keys[start].0 {
            end += 1;
        }
        if end - start > 1 {
            keys[start..end].sort_unstable_by(|a, b| tie(a.1, b.1));
        }
        start = end;
    }
}

/// A key with the eight name bytes at the current depth, so partitions compare integers without reading names.
#[derive(Clone, Copy)]
struct Cached<'a> {
    word: Word,
    name: &'a [u8],
    index: u32,
}

/// Eight name bytes from a depth on, big-endian (zero-padded), and how many of them the name has (0 to 8): ordered
/// as the byte strings they stand for, NUL bytes included (`"a"` < `"a\0"` < `"a\0b"`).
type Word = (u64, u8);

#[inline]
fn word_at(name: &[u8], depth: usize) -> Word {
    let rest = name.get(depth..).unwrap_or(&[]);
    let n = rest.len().min(8);
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&rest[..n]);
    (u64::from_be_bytes(b), n as u8)
}

/// Sort by name bytes from `depth` on (all names share the bytes before it; `word` holds the bytes at `depth`).
fn multikey(mut keys: &mut [Cached<'_>], mut depth: usize, budget: usize) {
    loop {
        if keys.len() <= SMALL {
            insertion(keys, depth);
            return;
        }
        if budget == 0 {
            keys.sort_unstable_by(|a, b| tail(a.name, depth).cmp(tail(b.name, depth)));
            return;
        }
        let n = keys.len();
        let pivot = median3(keys[0].word, keys[n / 2].word, keys[n - 1].word);
        // Three-way partition: [0, lt) below, [lt, gt) equal, [gt, n) above.
        let (mut lt, mut i, mut gt) = (0, 0, n);
        while i < gt {
            match keys[i].word.cmp(&pivot) {
                Ordering::Less => {
                    keys.swap(lt, i);
                    lt += 1;
                    i += 1;
                }
                Ordering::Greater => {
                    gt -= 1;
                    keys.swap(i, gt);
                }
                Ordering::Equal => i += 1,
            }
        }
        let (below, rest) = keys.split_at_mut(lt);
        let (equal, above) = rest.split_at_mut(gt - lt);
        multikey(below, depth, budget - 1);
        multikey(above, depth, budget - 1);
        if pivot.1 < 8 {
            // Every name in the middle ends within these bytes: they are equal.
            return;
        }
        keys = equal;
        depth += 8;
        for k in keys.iter_mut() {
            k.word = word_at(k.name, depth);
        }
    }
}

fn tail(name: &[u8], depth: usize) -> &[u8] {
    name.get(depth..).unwrap_or(&[])
}

fn insertion(keys: &mut [Cached<'_>], depth: usize) {
    for i in 1..keys.len() {
        let mut j = i;
        while j > 0 && tail(keys[j - 1].name, depth) > tail(keys[j].name, depth) {
            keys.swap(j - 1, j);
            j -= 1;
        }
    }
}

fn median3(a: Word, b: Word, c: Word) -> Word {
    a.max(b).min(a.min(b).max(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_a_stable_comparison_sort() {
        let mut names: Vec<String> = Vec::new();
        let mut x: u32 = 12345;
        for i in 0..3000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = (x >> 16) % 12;
            let mut s = String::from(if i % 3 == 0 { "_ZN4llvm" } else { "" });
            for k in 0..len {
                s.push(char::from(b'a' + ((x >> (k % 16)) % 4) as u8));
            }
            if i % 7 == 0 {
                s.push('é');
            }
            names.push(s);
        }
        names.extend(
            [
                "",
                "",
                "a",
                "a",
                "ab",
                "a\0",
                "a\0b",
                "abcdefgh",
                "abcdefgh\0",
            ]
            .map(String::from),
        );
        let mut keys: Vec<Key<'_>> = names.iter().map(|s| s.as_bytes()).zip(0..).collect();
        let mut want = keys.clone();
        want.sort_by(|a, b| a.0.cmp(b.0));
        sort_keys(&mut keys, |a, b| a.cmp(&b));
        assert_eq!(keys, want);
        // Many equal names and a tie-breaker that reverses the table order.
        let same = vec!["x".to_string(); 100];
        let mut keys: Vec<Key<'_>> = same.iter().map(|s| s.as_bytes()).zip(0..).collect();
        sort_keys(&mut keys, |a, b| b.cmp(&a));
        assert!(keys.windows(2).all(|w| w[0].1 > w[1].1));
        // Names that are prefixes of each other, shortest last in the table.
        let deep: Vec<String> = (0..200).map(|i| "a".repeat(i)).rev().collect();
        let mut keys: Vec<Key<'_>> = deep.iter().map(|s| s.as_bytes()).zip(0..).collect();
        sort_keys(&mut keys, |a, b| a.cmp(&b));
        assert!(keys.windows(2).all(|w| w[0].0.len() < w[1].0.len()));
    }
}
