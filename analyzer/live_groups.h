/* The replay's live blocks counted by group — allocation stack, allocating thread, flags,
 * and whether they were allocated after the program-end mark — kept up to date as blocks
 * come and go, with each group's counts as they were at the latest peak. The report's
 * points (end of trace, program end, survivors, peak) come from these counts instead of a
 * walk over every live block, and the peak from one replay instead of two. */
#ifndef REFSCOPE_LIVE_GROUPS_H
#define REFSCOPE_LIVE_GROUPS_H

#include "replay.h"

#include <stdbool.h>
#include <stdint.h>

struct rs_group_key {
    uint32_t stack_id;
    uint32_t tid;
    uint32_t flags;           /* RS_GROUP_* */
    uint32_t after_mark;      /* 1: allocated after the program-end mark */
};

struct rs_live_groups;

struct rs_live_groups *rs_live_groups_new(void);
void rs_live_groups_free(struct rs_live_groups *G);
/* The group's index, the group made when new; UINT32_MAX when out of memory. */
uint32_t rs_live_groups_index(struct rs_live_groups *G, const struct rs_group_key *key);
/* Blocks counted in (in) or out of group i. */
void rs_live_groups_count(struct rs_live_groups *G, uint32_t i, uint64_t blocks, uint64_t bytes,
                          bool in);
/* The counts as they are now are the peak's. */
void rs_live_groups_peak(struct rs_live_groups *G);
/* The point at `time`, from the counts now or at the peak, of the blocks allocated before
 * the mark only or of all: groups by stack, thread and flags (the two halves of a group
 * merged), sorted by them. Returns 0, -1 when out of memory. */
int rs_live_groups_point(const struct rs_live_groups *G, bool at_peak, bool only_before_mark,
                         uint64_t time, struct rs_live_point *out);

#endif
