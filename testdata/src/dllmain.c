/* dllmain.c - entry point for the -nostdlib MSVC-target DLLs. */
int __stdcall _DllMainCRTStartup(void *instance, unsigned long reason, void *reserved)
{
    (void)instance; (void)reason; (void)reserved;
    return 1;
}

/* Normally defined by the CRT; referenced by any object using floating point. */
int _fltused = 0;
