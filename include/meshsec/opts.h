/*
 * One command-line grammar for meshsec and meshsecd, as swanctl has: each command declares its
 * options and help once, in a table, and one parser serves all.  It takes "--name VALUE",
 * "--name=VALUE", "-x VALUE", "-xVALUE", clusters of short flags ("-jh"), options before or
 * after positional arguments, and "--" to end options.  It refuses, with a sentence that names
 * the option and the fix: an unknown option (with "did you mean"), a missing value, a value that
 * looks like an option ("--socket needs a PATH; got --json": write --socket=--json if meant),
 * a value given to a flag, and too few or too many positional arguments.
 */
#ifndef MESHSEC_OPTS_H
#define MESHSEC_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "meshsec/error.h"

#define MS_OPTS_MAX 24		/* options per command, --help included */
#define MS_OPTS_POS_MAX 4	/* positional arguments kept */

struct ms_opt {
	const char *name;	/* long name, without "--"; NULL ends the table */
	char short_name;	/* 0: none */
	const char *arg;	/* the value's name in help ("PATH"); NULL for a flag */
	const char *help;
};

struct ms_cmd {
	const char *name;	/* "status"; for a program of one command, the program's name */
	const char *args;	/* positional synopsis for help ("PEER", "[LEVEL]"), NULL for none */
	unsigned min_pos, max_pos;
	const char *summary;	/* one line, for the list of commands */
	const char *help;	/* what it does and its exit status; may be NULL */
	const struct ms_opt *opts;	/* NULL: the command parses its own argv (help then runs it with --help) */
	int (*main)(int argc, char **argv);
};

struct ms_args {
	const struct ms_cmd *cmd;
	const char *val[MS_OPTS_MAX];	/* per option of cmd->opts: its value, "" for a flag given, NULL if absent */
	const char *pos[MS_OPTS_POS_MAX];
	unsigned n_pos;
	bool help;		/* -h or --help was given: print help, nothing else */
};

/*
 * Parses argv[1..argc-1] (argv[0] is the command's name) against cmd.  Returns 0, or -EINVAL
 * with err naming the bad argument and the fix.  -h/--help is known to every command; when it
 * is given, nothing else is judged.
 */
int ms_opts_parse(const struct ms_cmd *cmd, int argc, char **argv, struct ms_args *a, struct ms_error *err);

/* The value of option NAME (a long name cmd declares; anything else aborts: a bug), or NULL. */
const char *ms_opt(const struct ms_args *a, const char *name);
/* True when the flag or option NAME was given. */
bool ms_opt_set(const struct ms_args *a, const char *name);

/* "usage: PROG [OPTIONS] ARGS", the summary, every option with its help, then cmd->help. */
void ms_opts_help(FILE *f, const char *prog, const struct ms_cmd *cmd);

/*
 * True when cmd declares json and argv (before any "--") holds --json, -j, or -j in a cluster of
 * short flags ("-Aj"): errors of the parse itself are JSON then.
 */
bool ms_opts_wants_json(const struct ms_cmd *cmd, int argc, char **argv);

#endif
