/* poll_heap: the hub's deadline heap, a binary min-heap of parked waiters
 * by deadline (each waiter knows its index, so one leaves in O(log n) when
 * it is woken or hangs up). Apart from poll_hub.c because it is a plain
 * data structure; the hub's lock guards it like the rest of the books. */
#include <stdlib.h>

#include "log.h"
#include "poll.h"
#include "poll_hub.h"

struct waiter **hub_heap;
size_t		hub_nheap, hub_capheap;

static void heap_fix(size_t);

static void
heap_swap(size_t a, size_t b)
{
	struct waiter *t = hub_heap[a];

	hub_heap[a] = hub_heap[b];
	hub_heap[b] = t;
	hub_heap[a]->heap_idx = (int)a;
	hub_heap[b]->heap_idx = (int)b;
}

static void
heap_fix(size_t i)
{
	size_t l, r, m;

	while (
	    i > 0 && hub_heap[(i - 1) / 2]->deadline > hub_heap[i]->deadline) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < hub_nheap &&
		    hub_heap[l]->deadline < hub_heap[m]->deadline)
			m = l;
		if (r < hub_nheap &&
		    hub_heap[r]->deadline < hub_heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

void
hub_heap_push(struct waiter *w)
{
	if (hub_nheap == hub_capheap) {
		hub_capheap = hub_capheap ? hub_capheap * 2 : 1024;
		if ((hub_heap = realloc(hub_heap,
			 hub_capheap * sizeof(*hub_heap))) == NULL)
			log_fatal("realloc: out of memory");
	}
	hub_heap[hub_nheap] = w;
	w->heap_idx = (int)hub_nheap++;
	heap_fix(hub_nheap - 1);
}

void
hub_heap_remove(struct waiter *w)
{
	size_t i = (size_t)w->heap_idx;

	if (--hub_nheap != i) {
		hub_heap[i] = hub_heap[hub_nheap];
		hub_heap[i]->heap_idx = (int)i;
		heap_fix(i);
	}
	w->heap_idx = -1;
}
