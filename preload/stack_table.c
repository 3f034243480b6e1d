#include "stack_table.h"

#include "ring.h"
#include "rs_trace_encode.h"
#include "stack_trie.h"

#include <string.h>

struct slot {
    _Atomic uint64_t hash;
    _Atomic uint32_t id;
    uint32_t unused;
};

struct entry {
    uint32_t nwords;
    uint32_t unused;
    uint64_t words[];
};

/* An id whose insert died with its thread across fork: never published, skipped. */
#define OFFSET_TOMBSTONE 1u
/* A slot claimed by an insert that died across fork: lookups probe past it. */
#define SLOT_DEAD UINT32_MAX
/* Waiting for another thread to publish an id: give up after this many spins. */
#define PUBLISH_SPIN_LIMIT (1u << 22)

/* Three tables. Probed at random, a table sized for max_stacks would touch (fault in,
 * zero) a page per new stack, thousands in a short run (Python's start-up and imports make
 * 13,000 stacks). Stacks go to a small table first, populated at start-up; once it is half
 * full, to a middle one on huge pages (its few faults fill it all); once that is half
 * full, to the large one. A stack's place is never in doubt: an empty slot of a closed
 * table is marked before a lookup moves on, so an insert into it either lands before the
 * mark (and the lookup finds it) or fails on it (and goes on to the next table like the
 * lookup). */
#define SMALL_SLOTS (1u << 14)
#define MIDDLE_SLOTS (1u << 18)
#define SLOT_CLOSED UINT64_MAX /* in a table that closes: look in the next one */

struct table {
    struct slot *slots;
    uint64_t mask;
    bool closes; /* at half full */
    _Atomic uint64_t used;
};
enum { SMALL_TABLE, MIDDLE_TABLE, LARGE_TABLE, NTABLES };
static struct table tables[NTABLES];
static _Atomic uint64_t *offsets; /* id -> byte offset in arena; 0 = not yet published */
static uint8_t *arena;
static size_t arena_cap;
static _Atomic size_t arena_used;
static _Atomic uint32_t next_id = 1;
static uint32_t max_id;
static _Atomic uint32_t inserts_in_flight;
static _Atomic uint64_t overflows;
static uint32_t emitted_upto = 1; /* writer-owned */

bool rs_stack_table_init(uint32_t max_stacks)
{
    uint64_t nslots = 1;
    while (nslots < (uint64_t)max_stacks * 2)
        nslots <<= 1;
    struct slot *large = rs_sys_map(nslots * sizeof *large);
    struct slot *small = rs_sys_map_touched(SMALL_SLOTS * sizeof *small); /* probed before written */
    struct slot *middle = rs_sys_map_huge(MIDDLE_SLOTS * sizeof *middle);
    offsets = rs_sys_map_huge(((size_t)max_stacks + 1) * sizeof *offsets); /* filled in id order */
    /* Address space only: pages are touched as stacks arrive. Try smaller reservations
     * where overcommit is strict. */
    uint8_t *entries = NULL;
    for (arena_cap = (size_t)1 << 30; arena_cap >= ((size_t)16 << 20); arena_cap >>= 1)
        if ((entries = rs_sys_map_huge(arena_cap)) != NULL)
            break;
    if (!large || !small || !middle || !offsets || !entries)
        return false;
    tables[SMALL_TABLE] = (struct table){.slots = small, .mask = SMALL_SLOTS - 1, .closes = true};
    tables[MIDDLE_TABLE] = (struct table){.slots = middle, .mask = MIDDLE_SLOTS - 1, .closes = true};
    tables[LARGE_TABLE] = (struct table){.slots = large, .mask = nslots - 1};
    arena = entries; /* set last: the table is in use once it is */
    max_id = max_stacks;
    atomic_store(&arena_used, 8); /* offset 0 means "unpublished", 1 tombstone */
    return true;
}

/* Stacks are hashed from their bottom frame up, so that a thread's next stack can start
 * from the hash of the bottom part it shares with the previous one. */
#define HASH_SEED 0x9e3779b97f4a7c15u

static inline uint64_t hash_step(uint64_t h, uint64_t word)
{
    h ^= word;
    h *= 0xff51afd7ed558ccdu;
    return h ^ (h >> 32);
}

static inline uint64_t hash_final(uint64_t h, uint32_t n)
{
    h ^= n;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 29;
    return h && h != SLOT_CLOSED ? h : 1;
}

static uint64_t hash_words(const uint64_t *w, uint32_t n)
{
    uint64_t h = HASH_SEED;
    for (uint32_t j = 0; j < n; j++)
        h = hash_step(h, w[n - 1 - j]);
    return hash_final(h, n);
}

/* hash_words, with the thread's memo: only the words above the shared bottom are hashed. */
static uint64_t hash_words_memo(struct rs_stack_memo *m, const uint64_t *w, uint32_t n)
{
    uint32_t same = 0, limit = n < m->n ? n : m->n;
    while (same < limit && w[n - 1 - same] == m->bottom_up[same])
        same++;
    uint64_t h = same ? m->hash_of[same] : HASH_SEED;
    for (uint32_t j = same; j < n; j++) {
        h = hash_step(h, w[n - 1 - j]);
        m->bottom_up[j] = w[n - 1 - j];
        m->hash_of[j + 1] = h;
    }
    m->n = n;
    return hash_final(h, n);
}

static bool same_words(uint32_t id, const uint64_t *words, uint32_t n)
{
    uint64_t off = atomic_load_explicit(&offsets[id], memory_order_acquire);
    if (off <= OFFSET_TOMBSTONE)
        return false;
    const struct entry *e = (const struct entry *)(arena + off);
    return e->nwords == n && memcmp(e->words, words, n * sizeof *words) == 0;
}

static uint32_t publish_new(struct slot *s, const uint64_t *words, uint32_t n)
{
    uint32_t id = atomic_fetch_add(&next_id, 1);
    size_t bytes = sizeof(struct entry) + n * sizeof *words;
    size_t off = id <= max_id ? atomic_fetch_add(&arena_used, bytes) : 0;
    if (id > max_id || off + bytes > arena_cap) {
        atomic_fetch_add(&overflows, 1);
        if (id <= max_id)
            atomic_store_explicit(&offsets[id], OFFSET_TOMBSTONE, memory_order_release);
        atomic_store_explicit(&s->id, SLOT_DEAD, memory_order_release);
        return RS_STACK_ID_NONE;
    }
    struct entry *e = (struct entry *)(arena + off);
    e->nwords = n;
    memcpy(e->words, words, n * sizeof *words);
    atomic_store_explicit(&offsets[id], off, memory_order_release);
    atomic_store_explicit(&s->id, id, memory_order_release);
    return id;
}

/* The id of the stack in one table, claiming a slot for it if it is new. *moved_on: the
 * table is closed to it (or full), look in the next. */
static uint32_t table_probe(struct table *t, const uint64_t *words, uint32_t n, uint64_t h, bool *moved_on)
{
    for (uint64_t probe = 0, i = h & t->mask; probe <= t->mask; probe++, i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        /* The large table is claimed without a read first: a read of a page never written
         * maps the zero page, and the write that follows then costs a second fault and a
         * TLB flush on every CPU the process runs on. The others are soon all touched, and
         * reads there share their lines between threads. */
        uint64_t seen = t->closes ? atomic_load_explicit(&s->hash, memory_order_acquire) : 0;
        if (seen == 0) {
            uint64_t claim = t->closes && atomic_load_explicit(&t->used, memory_order_relaxed) >= (t->mask + 1) / 2
                                 ? SLOT_CLOSED
                                 : h;
            if (atomic_compare_exchange_strong(&s->hash, &seen, claim)) {
                if (claim == SLOT_CLOSED)
                    break;
                if (t->closes)
                    atomic_fetch_add_explicit(&t->used, 1, memory_order_relaxed);
                return publish_new(s, words, n);
            }
        }
        if (seen == SLOT_CLOSED)
            break;
        if (seen != h)
            continue;
        uint32_t id;
        unsigned spins = 0;
        while ((id = atomic_load_explicit(&s->id, memory_order_acquire)) == 0 && ++spins < PUBLISH_SPIN_LIMIT)
            __builtin_ia32_pause();
        if (id == 0 || id == SLOT_DEAD)
            continue;
        if (same_words(id, words, n))
            return id;
    }
    *moved_on = true;
    return RS_STACK_ID_NONE;
}

static uint32_t table_intern(const uint64_t *words, uint32_t n, uint64_t h)
{
    atomic_fetch_add(&inserts_in_flight, 1);
    uint32_t id = RS_STACK_ID_NONE;
    bool moved_on = true;
    for (int k = 0; k < NTABLES && moved_on; k++) {
        moved_on = false;
        id = table_probe(&tables[k], words, n, h, &moved_on);
    }
    atomic_fetch_sub(&inserts_in_flight, 1);
    return id;
}

uint32_t rs_stack_intern(struct rs_ring *ring, const uint64_t *words, uint32_t nwords)
{
    if (!arena || nwords == 0)
        return RS_STACK_ID_NONE;
    uint64_t h = ring ? hash_words_memo(&ring->stack_memo, words, nwords) : hash_words(words, nwords);
    unsigned c = (unsigned)(h ^ (h >> 17)) & (RS_STACK_CACHE_SLOTS - 1);
    if (ring && ring->stack_cache[c].hash == h)
        return ring->stack_cache[c].id;
    uint32_t id = table_intern(words, nwords, h);
    if (ring && id != RS_STACK_ID_NONE) {
        ring->stack_cache[c].hash = h;
        ring->stack_cache[c].id = id;
    }
    return id;
}

void rs_stack_table_emit(struct rs_chunk_writer *w)
{
    if (!arena)
        return;
    uint32_t end = atomic_load(&next_id);
    if (end > max_id + 1)
        end = max_id + 1;
    while (emitted_upto < end) {
        uint64_t off = atomic_load_explicit(&offsets[emitted_upto], memory_order_acquire);
        if (off == 0)
            break; /* being published: next round */
        if (off != OFFSET_TOMBSTONE) {
            const struct entry *e = (const struct entry *)(arena + off);
            rs_stack_trie_emit(w, emitted_upto, e->words, e->nwords);
        }
        emitted_upto++;
    }
}

static void mark_dead_claims(struct slot *table, uint64_t mask)
{
    for (uint64_t i = 0; i <= mask; i++) {
        uint64_t h = atomic_load(&table[i].hash);
        if (h != 0 && h != SLOT_CLOSED && atomic_load(&table[i].id) == 0)
            atomic_store(&table[i].id, SLOT_DEAD);
    }
}

void rs_stack_table_after_fork_child(void)
{
    emitted_upto = 1;
    rs_stack_trie_reset();
    if (!arena || atomic_load(&inserts_in_flight) == 0)
        return;
    /* Some thread was inserting when the parent forked; it does not exist here. */
    uint32_t end = atomic_load(&next_id);
    for (uint32_t id = 1; id < end && id <= max_id; id++)
        if (atomic_load(&offsets[id]) == 0)
            atomic_store(&offsets[id], OFFSET_TOMBSTONE);
    for (int k = 0; k < NTABLES; k++)
        mark_dead_claims(tables[k].slots, tables[k].mask);
    atomic_store(&inserts_in_flight, 0);
}

uint64_t rs_stack_table_overflows(void)
{
    return atomic_load(&overflows);
}

uint32_t rs_stack_table_next_id(void)
{
    uint32_t end = atomic_load(&next_id);
    return end > max_id + 1 ? max_id + 1 : end;
}

const uint64_t *rs_stack_table_get(uint32_t id, uint32_t *nwords, bool *pending)
{
    *pending = false;
    if (!arena || id == 0 || id > max_id)
        return NULL;
    uint64_t off = atomic_load_explicit(&offsets[id], memory_order_acquire);
    if (off == 0) {
        *pending = true;
        return NULL;
    }
    if (off == OFFSET_TOMBSTONE)
        return NULL;
    const struct entry *e = (const struct entry *)(arena + off);
    *nwords = e->nwords;
    return e->words;
}
