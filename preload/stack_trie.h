/* The writer's record of the stacks already in the file, as a trie of frames from the
 * outermost in: a new stack is written as the longest outer part it shares with one
 * already written, plus its own inner frames. Writer-owned (under the writer lock). */
#ifndef REFSCOPE_STACK_TRIE_H
#define REFSCOPE_STACK_TRIE_H

#include "shim.h"

struct rs_chunk_writer;

/* Writes the STACK record of stack `id` (its words, innermost first). */
RS_HIDDEN void rs_stack_trie_emit(struct rs_chunk_writer *w, uint32_t id, const uint64_t *words, uint32_t n);
/* Forgets every stack written (a fork child starts a new file). */
RS_HIDDEN void rs_stack_trie_reset(void);

#endif
