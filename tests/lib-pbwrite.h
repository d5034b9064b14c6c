/* lib-pbwrite.h - write a minimal valid playbook file for a test library. */
#ifndef LIB_PBWRITE_H
#define LIB_PBWRITE_H

/*
 * Write DIR/ID.json: a playbook of class KLASS, severity high, one pattern
 * REGEX, the three matching example lines EX and three fixed non-matching
 * ones.  0 on success, -1 when the file cannot be written.
 */
int pbw_write(const char *dir, const char *id, const char *klass,
    const char *title, const char *expl, const char *regex,
    const char *const ex[3]);

#endif
