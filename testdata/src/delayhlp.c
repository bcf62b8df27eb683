/* delayhlp.c - minimal __delayLoadHelper2 for the -nostdlib lld-link build
 * (normally provided by delayimp.lib).  Never actually called by tests. */
typedef void (*FARPROC)(void);
FARPROC __delayLoadHelper2(const void *desc, FARPROC *iat_entry)
{
    (void)desc;
    return *iat_entry;
}
