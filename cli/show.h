/* meshsec show PEER: one peer of the status document in full; and the figures status shares. */
#ifndef MESHSEC_CLI_SHOW_H
#define MESHSEC_CLI_SHOW_H

#include <jansson.h>
#include <stddef.h>

/* Every field of a peer object (agent/status.schema.json), its reason when it has one. */
void show_peer(json_t *peer);

/* o[k] as a string, "-" when it is not one */
const char *show_str(json_t *o, const char *k);
/* o[a] (or o[a][b]) as an integer, 0 when it is not one */
long long show_num(json_t *o, const char *a, const char *b);
/* 93 -> "1m33s"; not a number (null: never) -> "-" */
const char *show_age(json_t *seconds, char *buf, size_t len);
/* 1234567 -> "1.2MB" */
const char *show_bytes(long long b, char *buf, size_t len);

#endif
