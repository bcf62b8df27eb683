/* split_ext.c - pe/split/mingw{64,32}/ext-5e1f0c2a.dll: the vendored ext.dll as delvewheel ships it (renamed; exports
 * as in ext.def: ext_helper by name, ext_by_ordinal as NONAME ordinal 7), so the renamed import resolves. */
int ext_helper(int x) { return x ^ 0x5a; }
int ext_by_ordinal(int x) { return x + 7; }
