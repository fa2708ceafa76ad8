/*
 * The status document (agent/CONTROL.md, schema agent/status.schema.json), written straight to
 * text: with 1,000 peers a tree of JSON values costs more in allocation than the rest of the
 * request.  Names and addresses need no escaping (names are restricted to A-Z a-z 0-9 . _ -);
 * the one free-form string, the inventory path, is escaped by jansson.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "meshsec/exclude.h"
#include "meshsec/plan.h"
#include "log.h"
#include "mesh_internal.h"
#include "mesh_view.h"

static void addrs(FILE *f, const struct ms_addr *v4, const struct ms_addr *v6)
{
	char b[MS_ADDR_STRLEN];

	fputc('[', f);
	if (v4->family)
		fprintf(f, "\"%s\"", ms_addr_format(v4, b, sizeof(b)));
	if (v6->family)
		fprintf(f, "%s\"%s\"", v4->family ? "," : "", ms_addr_format(v6, b, sizeof(b)));
	fputc(']', f);
}

static void num_or_null(FILE *f, const char *key, double v)
{
	if (v < 0)
		fprintf(f, ",\"%s\":null", key);
	else
		fprintf(f, ",\"%s\":%.3f", key, v);
}

static void hex(FILE *f, const uint8_t *v, size_t len)
{
	char h[2 * MS_DIGEST_LEN + 1];

	sodium_bin2hex(h, sizeof(h), v, len);
	fprintf(f, "\"%s\"", h);
}

/* Text from the kernel (extended ack) may hold anything: jansson escapes it. */
static void json_text(FILE *f, const char *key, const char *value)
{
	json_t *s = json_string(value);
	char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;

	fprintf(f, "\"%s\":%s", key, text ? text : "\"\"");
	free(text);
	json_decref(s);
}

static void reason(FILE *f, const struct core_why *w)
{
	if (w->code == CORE_REASON_NONE) {
		fputs(",\"reason\":null", f);
		return;
	}
	fprintf(f, ",\"reason\":{\"code\":\"%s\",", core_reason_code(w->code));
	json_text(f, "message", w->message);
	fputc(',', f);
	json_text(f, "fix", w->fix);
	fputc('}', f);
}

static void peer(FILE *f, const struct peer_view *p, const char *cipher)
{
	fprintf(f, "{\"name\":\"%s\",\"addresses\":", p->name);
	addrs(f, p->v4, p->v6);
	fprintf(f, ",\"state\":\"%s\",\"mode\":\"%s\",\"traffic\":\"%s\"", peer_state_name(p->state), ms_mode_name(p->mode),
		mesh_traffic_name(p->traffic));
	num_or_null(f, "since_s", p->since_s);
	num_or_null(f, "last_handshake_age_s", p->handshake_age_s);
	fprintf(f, ",\"handshakes\":%llu", (unsigned long long)p->handshakes);
	num_or_null(f, "rtt_ms", p->rtt_ms);
	num_or_null(f, "last_seen_age_s", p->seen_age_s);
	fputs(",\"inventory_digest\":", f);
	if (p->have_digest)
		hex(f, p->digest, MS_DIGEST_LEN);
	else
		fputs("null", f);
	fprintf(f, ",\"drift\":%s,\"in\":{\"bytes\":%llu,\"packets\":%llu},\"out\":{\"bytes\":%llu,\"packets\":%llu}",
		p->drift ? "true" : "false", (unsigned long long)p->in_bytes, (unsigned long long)p->in_packets,
		(unsigned long long)p->out_bytes, (unsigned long long)p->out_packets);
	fprintf(f, ",\"spi\":{\"in\":[%u,%u],\"out\":[%u,%u]},\"cipher\":\"%s\"", p->in_spi[0], p->in_spi[1],
		p->out_spi[0], p->out_spi[1], cipher);
	fprintf(f, ",\"errors\":{\"bad_mac\":%llu,\"replay\":%llu,\"failed\":%llu}", (unsigned long long)p->bad_mac,
		(unsigned long long)p->replay, (unsigned long long)p->failed);
	reason(f, &p->why);
	fputc('}', f);
}

static void conflicts(FILE *f, const struct mesh *m)
{
	char sel[MS_SP_STRLEN];

	fputs("\"policy_conflicts\":[", f);
	for (size_t i = 0; i < m->n_conflicts; i++) {
		const struct mesh_conflict *c = &m->conflicts[i];
		json_t *foreign = json_string(c->foreign);
		char *text = foreign ? json_dumps(foreign, JSON_ENCODE_ANY) : NULL;

		fprintf(f, "%s{\"policy\":\"%s\",\"peer\":", i ? "," : "", ms_sp_format(&c->sp, sel, sizeof(sel)));
		if (!mesh_policy_peer(m, &c->sp))
			fputs("null", f);
		else
			fprintf(f, "\"%s\"", mesh_policy_peer(m, &c->sp));
		fprintf(f, ",\"foreign\":%s}", text ? text : "\"\"");
		free(text);
		json_decref(foreign);
	}
	fputs("],", f);
}

/* The exclusions that apply to this node (meshsec/exclude.h): traffic left in clear on purpose. */
static void exclusions(FILE *f, const struct mesh *m)
{
	const struct ms_inventory *inv = m->conf.inv;
	struct ms_exclude_ref *refs;
	char text[MS_EXCLUDE_STRLEN];
	size_t n;

	fputs("\"exclusions\":[", f);
	if (ms_exclude_for_node(inv, m->conf.self, &refs, &n) < 0)
		log_warnx("status: out of memory listing the exclusions");	/* listed as none */
	else
		for (size_t i = 0; i < n; i++) {
			const struct ms_exclude_ref *r = &refs[i];

			fprintf(f, "%s{\"proto\":\"%s\",\"port_min\":%u,\"port_max\":%u,\"node\":", i ? "," : "",
				ms_exclude_proto_name(r->x->proto), r->x->lo, r->x->hi);
			if (r->owner < 0)
				fputs("null", f);
			else
				fprintf(f, "\"%s\"", inv->nodes[r->owner].name);
			if (r->x->peer_name[0])
				fprintf(f, ",\"peer\":\"%s\"", r->x->peer_name);
			else
				fputs(",\"peer\":null", f);
			fprintf(f, ",\"blocks\":%zu,\"text\":\"%s\"}", r->blocks, ms_exclude_describe(inv, r, text, sizeof(text)));
		}
	free(refs);
	fputs("],", f);
}

/* "source":"etcd","revision":12,"failing":{...} or null (CONTROL.md, "Inventory source"). */
static void source(FILE *f, const struct mesh *m)
{
	const struct mesh_source *s = &m->source;
	json_t *why;
	char *why_text, since[32];
	struct tm tm;

	fprintf(f, ",\"source\":\"%s\",\"revision\":", ms_inv_source_is_url(m->paths.inventory) ? "etcd" : "file");
	if (s->revision)
		fprintf(f, "%lld", (long long)s->revision);
	else
		fputs("null", f);
	fputs(",\"failing\":", f);
	why = s->failing_since ? json_string(s->why) : NULL;
	why_text = why ? json_dumps(why, JSON_ENCODE_ANY) : NULL;
	json_decref(why);
	if (!why_text) {
		fputs("null", f);
		return;
	}
	gmtime_r(&s->failing_since, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "{\"since\":\"%s\",\"for_s\":%lld,\"reason\":%s}", since, (long long)(time(NULL) - s->failing_since), why_text);
	free(why_text);
}

char *mesh_status_text(struct mesh *m, const struct mesh_view *v, bool peers_only)
{
	const struct ms_inventory *inv = m->conf.inv;
	const struct ms_node *self = &inv->nodes[m->conf.self];
	const char *cipher = ms_cipher_name(inv->cipher);
	json_t *path = json_string(m->paths.inventory);
	char *text = NULL, *path_text = path ? json_dumps(path, JSON_ENCODE_ANY) : NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	json_decref(path);
	if (!f || !path_text) {
		if (f)
			fclose(f);
		free(text);
		free(path_text);
		return NULL;
	}
	fputc('{', f);
	if (!peers_only) {
		fprintf(f, "\"mesh\":{\"name\":\"%s\",\"cipher\":\"%s\",\"port\":%u,\"mode\":\"%s\",\"secret_fingerprint\":\"%s\"},",
			inv->mesh_name, cipher, inv->port, ms_mode_name(inv->mode), m->fingerprint);
		fprintf(f, "\"self\":{\"name\":\"%s\",\"mode\":\"%s\",\"addresses\":", self->name, ms_mode_name(self->mode));
		addrs(f, &self->v4, &self->v6);
		fprintf(f, "},\"inventory\":{\"path\":%s,\"digest\":", path_text);
		hex(f, core_digest(m->core), MS_DIGEST_LEN);
		fprintf(f, ",\"nodes\":%zu", inv->n_nodes);
		source(f, m);
		fprintf(f, "},\"agent\":{\"pid\":%ld,\"uptime_s\":%.3f,\"log_level\":\"%s\"},",
			(long)getpid(), v->uptime_s, log_level_name(log_get_level()));
		fprintf(f, "\"counts\":{\"peers\":%zu,\"up\":%zu,\"connecting\":%zu,\"down\":%zu,\"drift\":%zu,"
			"\"encrypted\":%zu,\"clear\":%zu,\"dropped\":%zu,\"foreign\":%zu},", v->total, v->count[PEER_UP],
			v->count[PEER_CONNECTING], v->count[PEER_DOWN], v->drifted, v->traffic[MESH_ENCRYPTED],
			v->traffic[MESH_CLEAR], v->traffic[MESH_DROPPED], v->traffic[MESH_FOREIGN]);
		conflicts(f, m);
		exclusions(f, m);
	}
	fputs("\"peers\":[", f);
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			fputc(',', f);
		peer(f, &v->peers[i], cipher);
	}
	fputs("]}", f);
	free(path_text);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
