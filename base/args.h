/* args.h - reading a command line's "--name value" and "--name=value". */
#ifndef KN_ARGS_H
#define KN_ARGS_H

/* If argv[*i] is flag `name` with a value (the next argument, or after '='),
 * returns the value (advancing *i past a separate one); else NULL. */
const char *kn_flag_value(int argc, char **argv, int *i, const char *name);

#endif
