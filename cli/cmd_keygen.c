/*
 * meshsec keygen [--out PATH]: a new mesh secret.  With --out, a new file made mode 0600 (never
 * over an existing one) and then loaded back, so a place meshsec would refuse is reported at once.
 * Without, one base64 line on stdout, with a warning when stdout puts the key where others can
 * see it: a terminal's scrollback, or a file that group or others can read.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/secret.h"
#include "cli.h"

static void warn_if_exposed(void)
{
	struct stat st;

	if (isatty(STDOUT_FILENO))
		fprintf(stderr, "meshsec keygen: warning: the key is on your screen and in your terminal's scrollback; use: meshsec keygen --out PATH\n");
	else if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		fprintf(stderr, "meshsec keygen: warning: standard output is a file of mode %04o that group or others can read; use: meshsec keygen --out PATH (it creates the file 0600)\n",
			(unsigned)(st.st_mode & 07777));
}

static int to_stdout(const struct ms_args *a)
{
	char line[MS_SECRET_B64_LEN + 1];

	if (ms_secret_generate(line) < 0) {
		cli_error(a, NULL, "cannot allocate secure memory");
		return 1;
	}
	warn_if_exposed();
	if (cli_json(a))
		printf("{\"key\": \"%s\"}\n", line);	/* not through jansson: no copy of the key in its heap */
	else
		printf("%s\n", line);
	sodium_memzero(line, sizeof(line));
	return fflush(stdout) == 0 ? 0 : 1;
}

static int to_file(const struct ms_args *a, const char *path)
{
	struct ms_error err;
	struct ms_secret *s;

	if (ms_secret_create(path, &err) < 0) {
		cli_error(a, NULL, "%s", err.msg);
		return 1;
	}
	if (ms_secret_load(path, &s, &err) < 0) {
		cli_error(a, NULL, "wrote %s, but meshsec will refuse to load it: %s", path, err.msg);
		return 1;
	}
	ms_secret_free(s);
	if (cli_json(a)) {
		cli_print_json(json_pack("{s:s,s:s}", "wrote", path, "mode", "0600"));
		return 0;
	}
	printf("meshsec keygen: wrote a new mesh secret to %s (mode 0600); copy this same file to every node of the mesh\n", path);
	return 0;
}

static int keygen_main(int argc, char **argv)
{
	struct ms_args a;
	int rc = cli_begin(&cli_cmd_keygen, argc, argv, &a);

	if (rc >= 0)
		return rc;
	return ms_opt(&a, "out") ? to_file(&a, ms_opt(&a, "out")) : to_stdout(&a);
}

static const struct ms_opt keygen_opts[] = {
	{ "out", 'o', "PATH", "create PATH (mode 0600, never over an existing file) instead of printing the key" },
	CLI_OPT_JSON, { NULL, 0, NULL, NULL },
};

const struct ms_cmd cli_cmd_keygen = {
	.name = "keygen", .summary = "make a new mesh secret (32 random bytes, base64): keygen --out FILE",
	.help = "Without --out, prints one base64 line on standard output (and warns when others could see it).\n"
		"Copy the same file to every node of the mesh.  Exit status: 0 done, 1 failed, 2 usage.",
	.opts = keygen_opts, .main = keygen_main,
};
