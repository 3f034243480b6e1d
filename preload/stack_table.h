/* In-process deduplication of stacks: each distinct stack gets a small id once, so events
 * carry an id instead of frames. A lock-free open-addressing table keyed by a hash of the
 * stack words; the words live in an append-only arena. The writer emits every new stack
 * once, in id order. */
#ifndef REFSCOPE_STACK_TABLE_H
#define REFSCOPE_STACK_TABLE_H

#include "shim.h"

struct rs_ring;
struct rs_chunk_writer;

RS_HIDDEN bool rs_stack_table_init(uint32_t max_stacks);
/* Returns the id of the stack (interning it on first sight), RS_STACK_ID_NONE when the
 * table is full. `ring` supplies a per-thread cache of recent stacks. */
RS_HIDDEN uint32_t rs_stack_intern(struct rs_ring *ring, const uint64_t *words, uint32_t nwords);
RS_HIDDEN void rs_stack_table_emit(struct rs_chunk_writer *w);
RS_HIDDEN void rs_stack_table_after_fork_child(void);
RS_HIDDEN uint64_t rs_stack_table_overflows(void);
/* Ids run from 1 to rs_stack_table_next_id() - 1. NULL while an id is not yet published
 * (or never will be). */
RS_HIDDEN uint32_t rs_stack_table_next_id(void);
RS_HIDDEN const uint64_t *rs_stack_table_get(uint32_t id, uint32_t *nwords, bool *pending);

/* native_stack.c */
RS_HIDDEN void rs_native_stack_init(void);
/* Captures the calling thread's native stack (the shim's own frames cut off) into words;
 * returns the number of words. ring: the thread's (its rule cache), or NULL. may_compute:
 * a missing rule may be read now, which allocates. false from async-signal-safe hooks
 * (mmap): a signal handler may call them while its thread holds malloc's lock. hook_frame:
 * see rs_record_alloc. */
struct rs_ring;
RS_HIDDEN uint32_t rs_native_stack_capture(struct rs_ring *ring, uint64_t *words, uint32_t max_words,
                                           bool may_compute, const void *hook_frame);
/* The id of that stack, interned (words: room for max_words, used or not). */
RS_HIDDEN uint32_t rs_native_stack_id(struct rs_ring *ring, uint64_t *words, uint32_t max_words,
                                      bool may_compute, const void *hook_frame);
/* REFSCOPE_UNWIND=check: says how the two ways compared. */
RS_HIDDEN void rs_native_stack_report(void);

#endif
