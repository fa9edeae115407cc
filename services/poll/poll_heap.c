/* poll_heap: the hub's deadline heap, a binary min-heap of parked waiters
 * by deadline (each waiter knows its index, so one leaves in O(log n) when
 * it is woken or hangs up). Apart from poll_hub.c because it is a plain
 * data structure; the hub's lock guards it like the rest of the books. */
#include <stdlib.h>

#include "log.h"
#include "poll.h"
#include "poll_hub.h"

struct waiter	**heap;
size_t		 nheap, capheap;

static void	 heap_fix(size_t);

static void
heap_swap(size_t a, size_t b)
{
	struct waiter	*t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = (int)a;
	heap[b]->heap_idx = (int)b;
}

static void
heap_fix(size_t i)
{
	size_t	l, r, m;

	while (i > 0 && heap[(i - 1) / 2]->deadline > heap[i]->deadline) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < nheap && heap[l]->deadline < heap[m]->deadline)
			m = l;
		if (r < nheap && heap[r]->deadline < heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

void
heap_push(struct waiter *w)
{
	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 1024;
		if ((heap = realloc(heap, capheap * sizeof(*heap))) == NULL)
			log_fatal("realloc: out of memory");
	}
	heap[nheap] = w;
	w->heap_idx = (int)nheap++;
	heap_fix(nheap - 1);
}

void
heap_remove(struct waiter *w)
{
	size_t	i = (size_t)w->heap_idx;

	if (--nheap != i) {
		heap[i] = heap[nheap];
		heap[i]->heap_idx = (int)i;
		heap_fix(i);
	}
	w->heap_idx = -1;
}
