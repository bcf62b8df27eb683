/* extra.c - a library the reexport_added Mach-O release re-exports (testdata/src/build-diff.sh). */
int dl_extra(void) { return 1; }
