/*
 * meshsec keygen [--out PATH]: a new mesh secret.  With --out, a new file made mode 0600 (never
 * over an existing one) and then loaded back, so a place meshsec would refuse is reported at once.
 * Without, one base64 line on stdout, with a warning when stdout puts the key where others can
 * see it: a terminal's scrollback, or a file that group or others can read.
 */
#include "config.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/secret.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: meshsec keygen --out /etc/meshsec/mesh.key\n"
		   "       meshsec keygen              (prints the key on standard output)\n"
		   "Makes 32 random bytes, one base64 line.  --out creates the file mode 0600 and never\n"
		   "overwrites one.  Copy the same file to every node of the mesh.\n");
}

static void warn_if_exposed(void)
{
	struct stat st;

	if (isatty(STDOUT_FILENO))
		fprintf(stderr, "meshsec keygen: warning: the key is on your screen and in your terminal's scrollback; use: meshsec keygen --out PATH\n");
	else if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		fprintf(stderr, "meshsec keygen: warning: standard output is a file of mode %04o that group or others can read; use: meshsec keygen --out PATH (it creates the file 0600)\n",
			(unsigned)(st.st_mode & 07777));
}

static int to_stdout(void)
{
	char line[MS_SECRET_B64_LEN + 1];

	if (ms_secret_generate(line) < 0) {
		fprintf(stderr, "meshsec keygen: cannot allocate secure memory\n");
		return 1;
	}
	warn_if_exposed();
	printf("%s\n", line);
	sodium_memzero(line, sizeof(line));
	return fflush(stdout) == 0 ? 0 : 1;
}

static int to_file(const char *path)
{
	struct ms_error err;
	struct ms_secret *s;

	if (ms_secret_create(path, &err) < 0) {
		fprintf(stderr, "meshsec keygen: %s\n", err.msg);
		return 1;
	}
	if (ms_secret_load(path, &s, &err) < 0) {
		fprintf(stderr, "meshsec keygen: wrote %s, but meshsec will refuse to load it: %s\n", path, err.msg);
		return 1;
	}
	ms_secret_free(s);
	printf("meshsec keygen: wrote a new mesh secret to %s (mode 0600); copy this same file to every node of the mesh\n", path);
	return 0;
}

int cmd_keygen_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "meshsec keygen: unexpected argument \"%s\" (write the key to a file with --out PATH)\n", argv[optind]);
		return 2;
	}
	return out ? to_file(out) : to_stdout();
}
