/* split.c - pe/split/: a tiny DLL importing from ext.dll (renamed afterwards by pe_split_name.py, as delvewheel
 * renames vendored DLLs) and from KERNEL32.dll. */
extern int ext_helper(int x);
extern int ext_by_ordinal(int x);
__declspec(dllimport) unsigned long __stdcall GetCurrentProcessId(void);

__declspec(dllexport) int split_entry(int x)
{
    return ext_helper(x) + ext_by_ordinal(x) + (int)GetCurrentProcessId();
}
