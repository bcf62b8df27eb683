//! The declared ABI of a release from its header (`--old-spec` / `--new-spec`): the spec's functions, variables,
//! records and enums laid out by the ABI engine ([`crate::abi`]) for the library's target, in the same model the
//! DWARF reader builds ([`DebugInfo`]), so [`super::types`] compares two headers exactly as it compares two
//! DWARFs. Used when both headers are given: the types the releases promise, whatever they were compiled with.

use std::path::PathBuf;

use crate::abi::{self, Target};
use crate::decl::c_spelling::{spell, typedef_naming};
use crate::decl::{Prim, QualType, Spec, Type};
use crate::dwarf::{
    DebugInfo, DebugSource, EnumDef, FunctionDef, Member, ParamDef, Record, TypeDesc, TypeKind,
    VariableDef,
};

/// Typedef chains longer than this are cycles in a malformed spec.
const MAX_DEPTH: usize = 64;

/// Integer-like standard typedefs the ABI engine sizes: signed or not.
fn standard_signed(name: &str) -> bool {
    !(name.starts_with('u') || name == "size_t")
}

struct Conv<'a> {
    spec: &'a Spec,
    target: Target,
}

impl Conv<'_> {
    fn size(&self, ty: &Type) -> Option<u64> {
        abi::type_layout(self.spec, ty, self.target)
            .ok()
            .map(|l| l.size)
    }

    fn prim(&self, p: Prim) -> TypeKind {
        let size = self.size(&Type::Prim { prim: p }).unwrap_or(0);
        match p {
            Prim::Void => TypeKind::Void,
            Prim::Bool => TypeKind::Bool { size },
            Prim::Char => TypeKind::Char {
                signed: !self.target.char_is_unsigned(),
                size,
            },
            Prim::SChar => TypeKind::Char { signed: true, size },
            Prim::UChar => TypeKind::Char {
                signed: false,
                size,
            },
            Prim::Char16 | Prim::Char32 => TypeKind::Char {
                signed: false,
                size,
            },
            Prim::WChar => TypeKind::Int {
                signed: !self.target.is_windows(),
                size,
            },
            Prim::Float | Prim::Double | Prim::LongDouble => TypeKind::Float { size },
            Prim::UShort | Prim::UInt | Prim::ULong | Prim::ULongLong | Prim::UInt128 => {
                TypeKind::Int {
                    signed: false,
                    size,
                }
            }
            Prim::Short | Prim::Int | Prim::Long | Prim::LongLong | Prim::Int128 => {
                TypeKind::Int { signed: true, size }
            }
        }
    }

    /// The structure of a type, typedefs crossed (their names collected in `typedefs`).
    fn kind(&self, ty: &Type, typedefs: &mut Vec<String>, depth: usize) -> TypeKind {
        if depth > MAX_DEPTH {
            return TypeKind::Other {
                tag: "typedef cycle".into(),
            };
        }
        match ty {
            Type::Prim { prim } => self.prim(*prim),
            Type::Named { name } => match self.spec.typedef(name) {
                Some(td) => {
                    typedefs.push(name.clone());
                    self.kind(&td.ty.ty, typedefs, depth + 1)
                }
                None => {
                    typedefs.push(name.clone());
                    match self.size(ty) {
                        Some(size) if size <= 16 && name != "va_list" && name != "FILE" => {
                            TypeKind::Int {
                                signed: standard_signed(name),
                                size,
                            }
                        }
                        _ => TypeKind::Other { tag: name.clone() },
                    }
                }
            },
            Type::Pointer { pointee } => TypeKind::Pointer {
                pointee: Box::new(self.kind(&pointee.ty, &mut Vec::new(), depth + 1)),
            },
            Type::Array { elem, len } => TypeKind::Array {
                elem: Box::new(self.kind(&elem.ty, &mut Vec::new(), depth + 1)),
                len: *len,
            },
            Type::Function { sig } => TypeKind::Function {
                ret: Box::new(self.kind(&sig.ret.ty, &mut Vec::new(), depth + 1)),
                params: sig
                    .params
                    .iter()
                    .map(|p| self.kind(&p.ty.ty, &mut Vec::new(), depth + 1))
                    .collect(),
                variadic: sig.variadic,
            },
            Type::Record { id } => {
                let r = &self.spec.records[*id];
                TypeKind::Record {
                    record: r.kind,
                    name: r.tag.clone().or_else(|| typedef_naming(self.spec, ty)),
                    size: if r.complete { self.size(ty) } else { None },
                }
            }
            Type::Enum { id } => {
                let e = &self.spec.enums[*id];
                TypeKind::Enum {
                    name: e.tag.clone().or_else(|| typedef_naming(self.spec, ty)),
                    size: self.size(ty).unwrap_or(4),
                    signed: e.variants.iter().any(|v| v.1.is_some_and(|x| x < 0)),
                }
            }
        }
    }

    fn desc(&self, qt: &QualType) -> TypeDesc {
        let mut typedefs = Vec::new();
        let kind = self.kind(&qt.ty, &mut typedefs, 0);
        TypeDesc {
            c: spell(self.spec, qt),
            size: match kind {
                TypeKind::Void | TypeKind::Function { .. } => None,
                _ => self.size(&qt.ty),
            },
            kind,
            typedefs,
            is_const: qt.quals.is_const,
            is_volatile: qt.quals.is_volatile,
        }
    }

    fn record(&self, id: usize, name: String, cu: &str) -> Option<Record> {
        let r = &self.spec.records[id];
        if !r.complete {
            return None;
        }
        let layout = abi::record_layout(self.spec, id, self.target).ok()?;
        Some(self.laid_out(id, name, &layout, cu))
    }

    fn laid_out(&self, id: usize, name: String, layout: &abi::RecordLayout, cu: &str) -> Record {
        let r = &self.spec.records[id];
        let ty = Type::Record { id };
        let members = r
            .fields
            .iter()
            .zip(&layout.fields)
            .filter(|(f, _)| f.name.is_some() || f.bits.is_none())
            .map(|(f, l)| {
                let anon = match (&f.ty.ty, &l.nested) {
                    (Type::Record { id: inner }, Some(nested)) if f.name.is_none() => {
                        Some(Box::new(self.laid_out(*inner, String::new(), nested, cu)))
                    }
                    _ => None,
                };
                let t = self.desc(&f.ty);
                Member {
                    name: f.name.clone(),
                    offset: l.offset,
                    size: l.size,
                    decl: format!("{} {}", t.c, f.name.as_deref().unwrap_or(""))
                        .trim()
                        .to_string(),
                    ty: t,
                    bit_size: f.bits.map(u64::from),
                    bit_offset: l.bit_offset,
                    alignment: f.aligned.map(u64::from),
                    anon,
                    decl_type: String::new(),
                    decl_name: String::new(),
                }
            })
            .collect();
        Record {
            kind: r.kind,
            name,
            tag: r.tag.clone(),
            typedef_name: typedef_naming(self.spec, &ty),
            byte_size: layout.size,
            alignment: r.aligned.map(|a| {
                if a == 0 {
                    u64::from(self.target.biggest_alignment())
                } else {
                    u64::from(a)
                }
            }),
            members,
            cu: cu.to_string(),
            decl_line: Some(u64::from(r.loc.line)),
        }
    }
}

/// The declared ABI of `spec` (read from `path`) for `target`, as the DWARF model.
pub fn debug_info(spec: &Spec, target: Target, path: &str) -> DebugInfo {
    let c = Conv { spec, target };
    let cu = path.to_string();
    let records = (0..spec.records.len())
        .filter_map(|id| {
            let name = match &spec.records[id].tag {
                Some(t) => t.clone(),
                None => typedef_naming(spec, &Type::Record { id })?,
            };
            c.record(id, name, &cu)
        })
        .collect();
    let enums = spec
        .enums
        .iter()
        .enumerate()
        .filter(|(_, e)| e.complete)
        .filter_map(|(id, e)| {
            let ty = Type::Enum { id };
            let name = e.tag.clone().or_else(|| typedef_naming(spec, &ty))?;
            Some(EnumDef {
                name,
                tag: e.tag.clone(),
                typedef_name: typedef_naming(spec, &ty),
                byte_size: c.size(&ty).unwrap_or(4),
                signed: e.variants.iter().any(|v| v.1.is_some_and(|x| x < 0)),
                enumerators: e
                    .variants
                    .iter()
                    .filter_map(|(n, v)| Some((n.clone(), (*v)?)))
                    .collect(),
                cu: cu.clone(),
            })
        })
        .collect();
    let functions = spec
        .functions
        .iter()
        .map(|f| FunctionDef {
            name: f.name.clone(),
            linkage_name: None,
            ret: c.desc(&f.sig.ret),
            params: f
                .sig
                .params
                .iter()
                .map(|p| ParamDef {
                    name: p.name.clone(),
                    ty: c.desc(&p.ty),
                })
                .collect(),
            variadic: f.sig.variadic,
            prototyped: !f.sig.unprototyped,
            cu: cu.clone(),
        })
        .collect();
    let variables = spec
        .variables
        .iter()
        .map(|v| VariableDef {
            name: v.name.clone(),
            linkage_name: None,
            ty: c.desc(&v.ty),
            cu: cu.clone(),
        })
        .collect();
    DebugInfo {
        source: DebugSource::DebugFile,
        path: PathBuf::from(path),
        dwarf_versions: Vec::new(),
        units: 1,
        notes: Vec::new(),
        records,
        enums,
        functions,
        variables,
    }
}
