/*
 * Inventory format v1: JSON text to a validated struct ms_inventory.
 *
 *   { "version": 1,
 *     "mesh":  { "name": "prod", "port": 4801, "cipher": "aes-gcm-256" },
 *     "nodes": [ { "name": "web-1", "addresses": ["10.0.1.5", "fd00::5"] } ] }
 *
 * Errors name the source, the JSON path (nodes[3].addresses[1]) or line:column, the bad value
 * and the fix.  Nothing is allocated on failure.
 */
#ifndef MESHSEC_INVENTORY_H
#define MESHSEC_INVENTORY_H

#include <stddef.h>

#include <jansson.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

#define MS_INVENTORY_MAX_BYTES (16u << 20)

/* source names the text in messages (usually the file's path). */
/* "an object", "a string", ...: what a JSON value is, for "expected X, found Y" messages. */
const char *ms_json_type_name(const json_t *v);

int ms_inventory_parse(const char *text, size_t len, const char *source,
		       struct ms_inventory **out, struct ms_error *err);

/* Reads the file at path (a regular file within the size limit) into text, NUL-terminated. */
int ms_inventory_read(const char *path, char **text, size_t *len, struct ms_error *err);

/* Reads and parses the file at path. */
int ms_inventory_load(const char *path, struct ms_inventory **out, struct ms_error *err);

/* Checks a mesh or node name; what is the word used in the message ("node name"). */
int ms_name_check(const char *name, const char *what, struct ms_error *err);

#endif
