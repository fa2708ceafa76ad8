/* The meshsec CLI: one function per subcommand, dispatched from meshsec.c's table. */
#ifndef MESHSEC_CLI_H
#define MESHSEC_CLI_H

int cmd_check_main(int argc, char **argv);
int cmd_keygen_main(int argc, char **argv);
int cmd_down_main(int argc, char **argv);
int cmd_install_policies_main(int argc, char **argv);
int cmd_status_main(int argc, char **argv);
int cmd_doctor_main(int argc, char **argv);
int cmd_peers_main(int argc, char **argv);
int cmd_show_main(int argc, char **argv);
int cmd_netcheck_main(int argc, char **argv);
/* reload, rekey, log-level, metrics: argv[0] says which */
int cmd_ctl_main(int argc, char **argv);

/* True if argv has -h or --help; subcommands print their usage then. */
int cli_wants_help(int argc, char **argv);

#endif
