#include "snap_draw.h"

#include <stdlib.h>
#include <string.h>

void rs_chain_dot(struct rs_strbuf *b, const struct rs_snap_graph *g, const uint32_t *nodes,
                  size_t n, const struct rs_snap_edge_ref *edges, const char *const *sites,
                  size_t max_nodes, const char *title)
{
    size_t first = max_nodes && n > max_nodes ? n - max_nodes : 0, k = n - first;
    struct rs_dot_node *dn = calloc(k ? k : 1, sizeof *dn);
    struct rs_dot_edge *de = calloc(k ? k : 1, sizeof *de);
    if (!dn || !de) {
        free(dn);
        free(de);
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < k; i++) {
        size_t c = first + i;
        dn[i] = (struct rs_dot_node){nodes[c], (unsigned)(n - 1 - c), c + 1 == n,
                                     sites ? sites[c] : NULL};
        if (i + 1 < k)
            de[i] = (struct rs_dot_edge){(uint32_t)i, (uint32_t)i + 1, &edges[c]};
    }
    struct rs_dot_more more = {.at = 0, .count = first, .backrefs = true};
    rs_dot_graph(b, g, dn, k, de, k ? k - 1 : 0, first ? &more : NULL, first ? 1 : 0,
                 (unsigned)k, title);
    free(dn);
    free(de);
}

int rs_cycles_dot(struct rs_strbuf *b, const struct rs_snap_graph *g, struct rs_snap_source *src,
                  const struct rs_cycle_group *groups, size_t ngroups, size_t max_members,
                  const uint32_t *site, struct rs_site_names *names, const char *title,
                  char *err, size_t errcap)
{
    size_t nn = 0;
    for (size_t i = 0; i < ngroups; i++)
        nn += max_members && groups[i].nexample > max_members ? max_members
                                                              : groups[i].nexample;
    struct rs_dot_node *dn = calloc(nn ? nn : 1, sizeof *dn);
    struct rs_dot_edge *de = NULL;
    struct rs_snap_edge_ref *refs = NULL;
    size_t ne = 0, k = 0;
    int rc = 0;
    if (!dn)
        return -2;
    for (size_t i = 0; i < ngroups; i++) {
        size_t m_end = max_members && groups[i].nexample > max_members ? max_members
                                                                : groups[i].nexample;
        for (size_t m = 0; m < m_end; m++) {
            uint32_t v = groups[i].example[m];
            const struct rs_site_name *sn = site && names ? rs_site_name(names, site[v]) : NULL;
            dn[k++] = (struct rs_dot_node){v, 0, m == 0, sn ? sn->text : NULL};
        }
    }
    /* References among the drawn members of each cycle. */
    for (int pass = 0; pass < 2; pass++) {
        size_t base = 0;
        ne = 0;
        for (size_t i = 0; i < ngroups; i++) {
            const struct rs_cycle_group *gr = &groups[i];
            size_t drawn = max_members && gr->nexample > max_members ? max_members
                                                                     : gr->nexample;
            for (size_t a = 0; a < drawn; a++) {
                uint32_t v = gr->example[a];
                for (uint32_t e = g->out_start[v]; e < g->out_start[v] + g->out_len[v]; e++) {
                    for (size_t c = 0; c < drawn; c++) {
                        if (gr->example[c] != g->dst[e])
                            continue;
                        if (pass) {
                            refs[ne] = (struct rs_snap_edge_ref){.from = v, .to = g->dst[e]};
                            de[ne] = (struct rs_dot_edge){(uint32_t)(base + a),
                                                          (uint32_t)(base + c), &refs[ne]};
                        }
                        ne++;
                        break;
                    }
                }
            }
            base += drawn;
        }
        if (!pass) {
            de = calloc(ne ? ne : 1, sizeof *de);
            refs = calloc(ne ? ne : 1, sizeof *refs);
            if (!de || !refs) {
                rc = -2;
                goto out;
            }
        }
    }
    rc = rs_snap_edge_labels(g, src, refs, ne, err, errcap);
    if (rc == 0)
        rs_dot_graph(b, g, dn, nn, de, ne, NULL, 0, 0, title);
out:
    if (refs)
        rs_snap_edge_refs_free(refs, ne);
    free(refs);
    free(de);
    free(dn);
    return rc;
}
