//! ctypes type expressions: the names the ctypes module (and `ctypes.wintypes`) gives, `POINTER(T)`, and an
//! evaluated expression taken as a type or a list of types (what is not a type is recorded as unresolved).

use tree_sitter::Node;

use super::reader::{Reader, Val};
use crate::bindings::model::{CType, CallConv, Endian, Loader, Simple};

/// What a name of the ctypes module denotes.
pub(super) fn ctypes_attr(name: &str) -> Option<Val> {
    if let Some(s) = Simple::from_name(name) {
        return Some(Val::Type(CType::Simple { simple: s }));
    }
    let simple = |s| Some(Val::Type(CType::Simple { simple: s }));
    Some(match name {
        "c_voidp" => return simple(Simple::VoidP),
        "CDLL" => Val::LoaderFn(Loader::Cdll),
        "WinDLL" => Val::LoaderFn(Loader::WinDll),
        "OleDLL" => Val::LoaderFn(Loader::OleDll),
        "PyDLL" => Val::LoaderFn(Loader::PyDll),
        "cdll" => Val::LoaderObj(Loader::Cdll),
        "windll" => Val::LoaderObj(Loader::WinDll),
        "oledll" => Val::LoaderObj(Loader::OleDll),
        "pydll" => Val::LoaderObj(Loader::PyDll),
        "find_library" => Val::FindLibraryFn,
        "get_errno" => Val::ErrnoFn(false),
        "get_last_error" => Val::ErrnoFn(true),
        "util" | "wintypes" => Val::Ctypes,
        "CFUNCTYPE" => Val::ProtoFactory(CallConv::Cdecl),
        "WINFUNCTYPE" => Val::ProtoFactory(CallConv::Stdcall),
        "PYFUNCTYPE" => Val::ProtoFactory(CallConv::Python),
        "POINTER" => Val::PointerFn,
        "Structure" => Val::RecordBase(false, Endian::Native),
        "Union" => Val::RecordBase(true, Endian::Native),
        "BigEndianStructure" => Val::RecordBase(false, Endian::Big),
        "LittleEndianStructure" => Val::RecordBase(false, Endian::Little),
        "BigEndianUnion" => Val::RecordBase(true, Endian::Big),
        "LittleEndianUnion" => Val::RecordBase(true, Endian::Little),
        _ => return wintypes(name).map(|s| Val::Type(CType::Simple { simple: s })),
    })
}

/// `ctypes.wintypes` names that are fundamental types (pointers to them are `POINTER` of these).
fn wintypes(name: &str) -> Option<Simple> {
    Some(match name {
        "BYTE" | "BOOLEAN" => Simple::Byte,
        "WORD" | "USHORT" | "ATOM" | "LANGID" => Simple::UShort,
        "DWORD" | "ULONG" | "COLORREF" | "LGRPID" | "LCTYPE" | "LCID" => Simple::ULong,
        "CHAR" => Simple::Char,
        "WCHAR" => Simple::WChar,
        "UINT" => Simple::UInt,
        "INT" => Simple::Int,
        "DOUBLE" => Simple::Double,
        "FLOAT" => Simple::Float,
        "BOOL" | "LONG" => Simple::Long,
        "SHORT" => Simple::Short,
        "LARGE_INTEGER" => Simple::LongLong,
        "ULARGE_INTEGER" => Simple::ULongLong,
        "LPCOLESTR" | "LPOLESTR" | "OLESTR" | "LPCWSTR" | "LPWSTR" => Simple::WCharP,
        "LPCSTR" | "LPSTR" => Simple::CharP,
        "LPCVOID" | "LPVOID" => Simple::VoidP,
        "WPARAM" => Simple::Size,
        "LPARAM" => Simple::SSize,
        "VARIANT_BOOL" => Simple::VariantBool,
        n if n == "HANDLE"
            || (n.starts_with('H') && n.len() > 2 && n.bytes().all(|b| b.is_ascii_uppercase())) =>
        {
            Simple::VoidP
        }
        "SC_HANDLE" | "SERVICE_STATUS_HANDLE" => Simple::VoidP,
        _ => return None,
    })
}

impl Reader<'_> {
    /// A ctypes type from an evaluated expression; an unknown one is recorded as unresolved.
    pub(super) fn as_type(&mut self, n: Node<'_>, v: Option<Val>, what: &str) -> CType {
        match v {
            Some(Val::Type(t)) => t,
            Some(Val::None) if n.kind() == "none" => CType::Void,
            _ => {
                self.unresolved(what, n);
                CType::Unknown {
                    text: self.short(n),
                }
            }
        }
    }

    pub(super) fn type_list(
        &mut self,
        n: Node<'_>,
        v: Option<Val>,
        what: &str,
        depth: u32,
    ) -> Option<Vec<CType>> {
        let _ = depth;
        match v {
            Some(Val::List(items)) => {
                let mut c = n.walk();
                let nodes: Vec<Node<'_>> = n
                    .named_children(&mut c)
                    .filter(|x| x.kind() != "comment")
                    .collect();
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    let node = nodes.get(i).copied().unwrap_or(n);
                    out.push(self.as_type(node, Some(it), what));
                }
                Some(out)
            }
            _ => {
                self.unresolved(what, n);
                None
            }
        }
    }

    /// `POINTER(T)`; an argument that is not a type is a pointer to an unresolved type.
    pub(super) fn pointer_call(&mut self, pos: &[Node<'_>], depth: u32) -> Option<Val> {
        match pos.first().map(|a| (*a, self.eval(*a, depth + 1))) {
            Some((_, Some(Val::Type(t)))) => Some(Val::Type(CType::Pointer {
                pointee: Box::new(t),
            })),
            Some((a, _)) => {
                self.unresolved("POINTER argument", a);
                Some(Val::Type(CType::Pointer {
                    pointee: Box::new(CType::Unknown {
                        text: self.short(a),
                    }),
                }))
            }
            None => None,
        }
    }
}
