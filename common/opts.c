/* The one command-line parser of both programs: see opts.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/opts.h"
#include "meshsec/suggest.h"

static const struct ms_opt help_opt = { "help", 'h', NULL, "print this help and exit" };

static int find_long(const struct ms_cmd *cmd, const char *name, size_t len)
{
	for (int i = 0; cmd->opts[i].name; i++)
		if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
			return i;
	return -1;
}

static int find_short(const struct ms_cmd *cmd, char c)
{
	for (int i = 0; cmd->opts[i].name; i++)
		if (cmd->opts[i].short_name == c)
			return i;
	return -1;
}

static int unknown(const struct ms_cmd *cmd, const char *word, size_t len, struct ms_error *err)
{
	const char *names[MS_OPTS_MAX + 2];
	char w[64];
	const char *hint;
	size_t n = 0;

	for (int i = 0; cmd->opts[i].name && n < MS_OPTS_MAX; i++)
		names[n++] = cmd->opts[i].name;
	names[n++] = help_opt.name;
	names[n] = NULL;
	snprintf(w, sizeof(w), "%.*s", (int)(len < sizeof(w) - 1 ? len : sizeof(w) - 1), word);
	hint = ms_suggest(w, names);
	if (hint)
		return ms_error_set(err, EINVAL, "unknown option --%s; did you mean --%s? (%s --help lists the options)", w, hint, cmd->name);
	return ms_error_set(err, EINVAL, "unknown option --%s (%s --help lists the options)", w, cmd->name);
}

/* A value must not look like an option: "--socket --json" is a forgotten PATH, not a path. */
static int take_value(const struct ms_cmd *cmd, int i, const char *given, int *k, int argc, char **argv,
		      struct ms_args *a, struct ms_error *err)
{
	const struct ms_opt *o = &cmd->opts[i];
	const char *v;

	if (given) {
		a->val[i] = given;
		return 0;
	}
	if (*k + 1 >= argc)
		return ms_error_set(err, EINVAL, "--%s needs a %s", o->name, o->arg);
	v = argv[*k + 1];
	if (v[0] == '-' && v[1] != '\0')
		return ms_error_set(err, EINVAL, "--%s needs a %s; got %s (write --%s=%s if that is the %s)", o->name, o->arg, v,
				    o->name, v, o->arg);
	a->val[i] = v;
	(*k)++;
	return 0;
}

static int parse_long(const struct ms_cmd *cmd, int *k, int argc, char **argv, struct ms_args *a, struct ms_error *err)
{
	const char *word = argv[*k] + 2, *eq = strchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	int i = find_long(cmd, word, len);

	if (i < 0) {
		if (len == 4 && strncmp(word, "help", 4) == 0) {
			a->help = true;
			return 0;
		}
		return unknown(cmd, word, len, err);
	}
	if (!cmd->opts[i].arg) {
		if (eq)
			return ms_error_set(err, EINVAL, "--%s takes no value; drop \"=%s\"", cmd->opts[i].name, eq + 1);
		a->val[i] = "";
		return 0;
	}
	return take_value(cmd, i, eq ? eq + 1 : NULL, k, argc, argv, a, err);
}

/* "-jh", "-o PATH", "-oPATH" */
static int parse_short(const struct ms_cmd *cmd, int *k, int argc, char **argv, struct ms_args *a, struct ms_error *err)
{
	for (const char *c = argv[*k] + 1; *c; c++) {
		int i = find_short(cmd, *c);

		if (i < 0) {
			if (*c == 'h') {
				a->help = true;
				continue;
			}
			return ms_error_set(err, EINVAL, "unknown option -%c (%s --help lists the options)", *c, cmd->name);
		}
		if (!cmd->opts[i].arg) {
			a->val[i] = "";
			continue;
		}
		return take_value(cmd, i, c[1] ? c + 1 : NULL, k, argc, argv, a, err);
	}
	return 0;
}

static int positional(const struct ms_cmd *cmd, const char *arg, struct ms_args *a, struct ms_error *err)
{
	if (a->n_pos >= cmd->max_pos || a->n_pos >= MS_OPTS_POS_MAX)
		return ms_error_set(err, EINVAL, "unexpected argument \"%s\": %s takes %s%s", arg, cmd->name,
				    cmd->max_pos ? "only " : "no arguments", cmd->max_pos ? cmd->args : "");
	a->pos[a->n_pos++] = arg;
	return 0;
}

int ms_opts_parse(const struct ms_cmd *cmd, int argc, char **argv, struct ms_args *a, struct ms_error *err)
{
	bool options = true;
	int rc;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	/* --help anywhere wins over every other judgement: the user asked how to write the rest. */
	for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
			return (a->help = true), 0;
	for (int k = 1; k < argc; k++) {
		const char *arg = argv[k];

		if (options && strcmp(arg, "--") == 0) {
			options = false;
			continue;
		}
		if (options && strncmp(arg, "--", 2) == 0)
			rc = parse_long(cmd, &k, argc, argv, a, err);
		else if (options && arg[0] == '-' && arg[1] != '\0')
			rc = parse_short(cmd, &k, argc, argv, a, err);
		else
			rc = positional(cmd, arg, a, err);
		if (a->help)
			return 0;
		if (rc < 0)
			return rc;
	}
	if (a->n_pos < cmd->min_pos)
		return ms_error_set(err, EINVAL, "missing %s (%s --help says what it takes)", cmd->args, cmd->name);
	return 0;
}

static int index_of(const struct ms_args *a, const char *name)
{
	for (int i = 0; a->cmd->opts && a->cmd->opts[i].name; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return i;
	abort();	/* the code asks for an option its own table lacks */
}

const char *ms_opt(const struct ms_args *a, const char *name)
{
	return a->val[index_of(a, name)];
}

bool ms_opt_set(const struct ms_args *a, const char *name)
{
	return ms_opt(a, name) != NULL;
}

static void help_line(FILE *f, const struct ms_opt *o)
{
	char left[64];
	int n = snprintf(left, sizeof(left), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
			 o->short_name ? ", " : "  ", o->name, o->arg ? " " : "", o->arg ? o->arg : "");

	if (n < 26)
		fprintf(f, "  %-26s %s\n", left, o->help);
	else
		fprintf(f, "  %s\n  %-26s %s\n", left, "", o->help);
}

void ms_opts_help(FILE *f, const char *prog, const struct ms_cmd *cmd)
{
	fprintf(f, "usage: %s%s%s [OPTIONS]%s%s\n", prog, strcmp(prog, cmd->name) ? " " : "", strcmp(prog, cmd->name) ? cmd->name : "",
		cmd->args ? " " : "", cmd->args ? cmd->args : "");
	fprintf(f, "%s\n\noptions:\n", cmd->summary);
	for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
		help_line(f, &cmd->opts[i]);
	help_line(f, &help_opt);
	if (cmd->help)
		fprintf(f, "\n%s\n", cmd->help);
}

/*
 * "--json", "-j", or -j inside a cluster of short flags ("-Aj"; in "-Sj" the j is -S's value),
 * before any "--", and only for a command that declares json: the parse may have failed anywhere,
 * so each word is judged alone.
 */
bool ms_opts_wants_json(const struct ms_cmd *cmd, int argc, char **argv)
{
	int j = -1;

	for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
		if (strcmp(cmd->opts[i].name, "json") == 0)
			j = i;
	if (j < 0)
		return false;
	for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++) {
		const char *arg = argv[k];

		if (strcmp(arg, "--json") == 0)
			return true;
		if (arg[0] != '-' || arg[1] == '-' || !cmd->opts[j].short_name)
			continue;
		for (const char *c = arg + 1; *c; c++) {
			int i = find_short(cmd, *c);

			if (i == j)
				return true;
			if (i >= 0 && cmd->opts[i].arg)
				break;	/* the rest is that option's value */
		}
	}
	return false;
}
