#include "chunk_counter.h"

#include "file_read.h"
#include "rs_trace_format.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Tallies the counter may have ready ahead of the reader: it waits beyond that. */
#define AHEAD 64

struct tally_at {
    uint64_t at;               /* the chunk's first byte */
    bool ok;                   /* false: the reader is to do this chunk itself */
    struct rs_event_tally tally;
};

struct rs_chunk_counter {
    int fd;
    uint64_t first_at, file_size;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct tally_at ready[AHEAD];
    uint64_t produced, consumed; /* under lock */
    bool finished;               /* under lock: the counter's thread will publish no more */
    _Atomic bool stopping;
    /* the reader's alone */
    uint64_t asked;              /* thread chunks the reader has asked about */
    bool astray;                 /* the counter's chunks are not where the reader's are */
    /* the counter's thread's alone */
    uint8_t *buf;
    size_t cap;
};

/* Below this the thread costs more than it saves. */
static uint64_t min_bytes = 16u << 20;

void rs_chunk_counter_set_min_bytes(uint64_t bytes)
{
    min_bytes = bytes;
}

/* Thread chunks are numbered from 0 in file order; the counter takes the odd ones. */
static bool counters_share(uint64_t thread_chunk)
{
    return thread_chunk % 2 == 1;
}

static void count_chunk(struct rs_chunk_counter *c, uint64_t at, const struct rs_chunk_header *ch,
                        size_t whole, struct tally_at *out)
{
    *out = (struct tally_at){.at = at};
    const uint8_t *chunk = rs_pread_buffered(c->fd, &c->buf, &c->cap, whole, at);
    if (!chunk || rs_crc32(chunk + RS_CHUNK_CRC_FROM, whole - RS_CHUNK_CRC_FROM) != ch->crc)
        return;
    const uint8_t *p = chunk + RS_CHUNK_HEADER_SIZE, *end = chunk + whole;
    const char *why;
    out->ok = rs_count_events_into(&out->tally, &p, end, &why) == RS_REC_OK && p == end;
}

static bool publish(struct rs_chunk_counter *c, const struct tally_at *t)
{
    pthread_mutex_lock(&c->lock);
    while (c->produced - c->consumed == AHEAD && !atomic_load(&c->stopping))
        pthread_cond_wait(&c->changed, &c->lock);
    bool go = !atomic_load(&c->stopping);
    if (go) {
        c->ready[c->produced % AHEAD] = *t;
        c->produced++;
        pthread_cond_broadcast(&c->changed);
    }
    pthread_mutex_unlock(&c->lock);
    return go;
}

/* Walks the chunk headers as the reader does and stops at anything it would not take as a
 * whole chunk: the reader finds what it is. */
static void *counter_main(void *arg)
{
    struct rs_chunk_counter *c = arg;
    uint64_t at = c->first_at, thread_chunk = 0;
    while (!atomic_load(&c->stopping)) {
        uint8_t head[RS_CHUNK_HEADER_SIZE];
        struct rs_chunk_header ch;
        if (c->file_size - at < RS_CHUNK_HEADER_SIZE || !rs_pread_all(c->fd, head, sizeof head, at) ||
            rs_decode_chunk_header(head, &ch) != 0 || ch.payload_len > RS_CHUNK_MAX_PAYLOAD)
            break;
        size_t whole = RS_CHUNK_HEADER_SIZE + (size_t)ch.payload_len;
        if (c->file_size - at < whole)
            break;
        if (ch.tid != RS_CHUNK_TID_META && counters_share(thread_chunk++)) {
            struct tally_at t;
            count_chunk(c, at, &ch, whole, &t);
            if (!publish(c, &t))
                break;
        }
        at += whole;
    }
    pthread_mutex_lock(&c->lock);
    c->finished = true;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

struct rs_chunk_counter *rs_chunk_counter_start(int fd, uint64_t at, uint64_t file_size)
{
    if (file_size < min_bytes || at > file_size)
        return NULL;
    struct rs_chunk_counter *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->first_at = at;
    c->file_size = file_size;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    if (pthread_create(&c->thread, NULL, counter_main, c) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->changed);
        free(c);
        return NULL;
    }
    return c;
}

bool rs_chunk_counter_take(struct rs_chunk_counter *c, uint64_t at, struct rs_event_tally *tally)
{
    if (!c || !counters_share(c->asked++) || c->astray)
        return false;
    pthread_mutex_lock(&c->lock);
    while (c->consumed == c->produced && !c->finished)
        pthread_cond_wait(&c->changed, &c->lock);
    bool have = c->consumed < c->produced;
    struct tally_at t = {0};
    if (have) {
        t = c->ready[c->consumed % AHEAD];
        c->consumed++;
        pthread_cond_broadcast(&c->changed);
    }
    pthread_mutex_unlock(&c->lock);
    if (!have)
        return false;
    if (t.at != at) { /* cannot happen while the file stays as it was */
        c->astray = true;
        return false;
    }
    if (t.ok)
        *tally = t.tally;
    return t.ok;
}

void rs_chunk_counter_stop(struct rs_chunk_counter *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    pthread_mutex_lock(&c->lock);
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->changed);
    free(c->buf);
    free(c);
}
