/* The consumer side: one writer thread drains every ring into chunks of the trace file.
 * A "round" drains all rings, appends metadata (new stacks, thread names, counters, module
 * map changes) and writes the result with one write(2). Rounds are serialized by the
 * writer lock, which is also taken by an exiting thread for the final round and by a
 * producer that finds no writer running. */
#ifndef REFSCOPE_WRITER_H
#define REFSCOPE_WRITER_H

#include "shim.h"

/* Opens the trace file and writes its header. false: the shim must stay inert. */
RS_HIDDEN bool rs_writer_open(bool fork_child);
RS_HIDDEN void rs_writer_start_thread(void);
/* After a failed exec: the finished trace goes on, with a new writer thread. */
RS_HIDDEN void rs_writer_resume_thread(void);
RS_HIDDEN bool rs_writer_running(void);
/* When the writer is to be started again after a fork (see lifecycle.c); 0: not. */
extern RS_HIDDEN _Atomic uint64_t rs_writer_restart_at_ns;
RS_HIDDEN void rs_writer_restart_due(uint64_t at);
/* Starts the writer again after a fork once enough time has passed; called from the event
 * path, so all it does when there is nothing to do is one load. */
static inline void rs_writer_maybe_restart(uint64_t now)
{
    uint64_t at = atomic_load_explicit(&rs_writer_restart_at_ns, memory_order_relaxed);
    if (RS_UNLIKELY(at != 0) && now >= at)
        rs_writer_restart_due(at);
}
/* Ends the writer thread's sleep between rounds, if it sleeps: a ring is filling. */
RS_HIDDEN void rs_writer_wake(void);
/* A producer drains all rings itself (no writer thread running). */
RS_HIDDEN bool rs_writer_drain_here(void);
/* A round right now, from the calling thread (before dlclose, for instance). */
RS_HIDDEN void rs_writer_sync(void);
/* From a crash signal's handler: records a fatal-signal mark (SIGNAL_NAME) and has every
 * ring drained (by the writer thread when there is one), waiting at most TIMEOUT_NS. No END
 * record: the process has not finished. Only system calls and the writer's own code:
 * async-signal-safe in practice. */
RS_HIDDEN void rs_writer_flush_before_death(const char *signal_name, uint64_t timeout_ns);
/* Final round, then the END record. Safe to call from any thread, once. */
RS_HIDDEN void rs_writer_finish(int end_reason);
/* Attach mode, after rs_writer_finish: joins the writer thread and closes the trace file,
 * so the process keeps nothing of refscope's running or open. */
RS_HIDDEN void rs_writer_detach(void);
/* Attach mode, attached again after a detach: a new trace file (header, then every stack,
 * module and meta-log record again as they are needed). false: it could not be opened. */
RS_HIDDEN bool rs_writer_reopen(void);
RS_HIDDEN void rs_writer_note(unsigned level, const char *text);
RS_HIDDEN void rs_writer_mark(int kind, const char *label);

/* Around fork: stop (and join) the thread before, and in the parent let it be restarted
 * lazily: CPython 3.12+ warns in os.fork() when the process has other threads, and it
 * counts them right after fork returns. */
RS_HIDDEN void rs_writer_before_fork(void);
RS_HIDDEN void rs_writer_after_fork_parent(void);
RS_HIDDEN void rs_writer_after_fork_child(void);
RS_HIDDEN const char *rs_writer_path(void);
/* Around exec (process_hooks.c): see rs_output_move_aside. */
RS_HIDDEN bool rs_writer_move_aside(void);
RS_HIDDEN void rs_writer_move_back(void);
/* Appends already-encoded meta records (Python code and line records...) to a log kept for
 * the life of the process: every round writes what is new, and a fork child's fresh trace
 * gets the whole log again. */
RS_HIDDEN void rs_writer_meta_log(const uint8_t *records, size_t len);
/* One meta chunk made of n parts (already-encoded records, in order), written now by the
 * calling thread. */
#define RS_WRITER_CHUNK_PARTS 3
RS_HIDDEN void rs_writer_meta_chunk(const uint8_t *const *parts, const size_t *lens, unsigned n);
/* The same chunk handed to the writer thread, which writes it while the caller goes on
 * (object-graph snapshots stream out so: the copy into the page cache then happens on
 * another CPU). Returns true when handed over: the parts stay the writer's until
 * rs_writer_handoff_wait returns. Returns false when it was written here instead (no
 * writer thread, or one stopping). One chunk at a time: wait before handing another. */
RS_HIDDEN bool rs_writer_meta_chunk_handoff(const uint8_t *const *parts, const size_t *lens,
                                            unsigned n);
RS_HIDDEN void rs_writer_handoff_wait(void);

#endif
