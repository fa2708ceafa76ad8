/* meshsec keygen: a new mesh secret on stdout, one base64 line. */
#include "config.h"

#include <sodium.h>
#include <stdio.h>

#include "meshsec/secret.h"
#include "cli.h"

int cmd_keygen_main(int argc, char **argv)
{
	char line[MS_SECRET_B64_LEN + 1];

	if (cli_wants_help(argc, argv) || argc > 1) {
		printf("usage: meshsec keygen > /etc/meshsec/mesh.key && chmod 600 /etc/meshsec/mesh.key\n"
		       "Prints 32 random bytes as one base64 line.  Copy the same file to every node of the mesh.\n");
		return argc > 1 && !cli_wants_help(argc, argv) ? 2 : 0;
	}
	if (ms_secret_generate(line) < 0) {
		fprintf(stderr, "meshsec keygen: cannot allocate secure memory\n");
		return 1;
	}
	printf("%s\n", line);
	sodium_memzero(line, sizeof(line));
	return fflush(stdout) == 0 ? 0 : 1;
}
