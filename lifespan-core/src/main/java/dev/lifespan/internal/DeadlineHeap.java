package dev.lifespan.internal;

import java.util.Arrays;

/**
 * Padding before {@link DeadlineHeapFields}: a class of its own, as the JVM orders fields by class.
 */
abstract class DeadlineHeapPad {
  long p00, p01, p02, p03, p04, p05, p06, p07;
}

/** The fields of {@link DeadlineHeap}, between its padding. */
abstract class DeadlineHeapFields extends DeadlineHeapPad {
  Timer.Entry[] heap; // allocated by the first thread to use the shard, in its own memory
  int size;
}

/**
 * One shard of a {@link Timer}'s deadline queue: a binary heap of {@link Timer.Entry entries}
 * indexed by {@link Timer.Entry#heapIndex}, so that adding, moving and removing a deadline are
 * O(log n) and allocate nothing, under the shard's monitor, which guards the heap and every entry's
 * deadline and heap index while it is in this shard. An entry stays in the shard it was first
 * scheduled in.
 *
 * <p>Padded, so that shards used by different threads do not share a cache line: the monitor's lock
 * word is in the padded object's header, and the heap's array is allocated by the first thread that
 * uses the shard, next to that thread's other data.
 */
final class DeadlineHeap extends DeadlineHeapFields {
  long p10, p11, p12, p13, p14, p15, p16, p17;

  /** Adds {@code node} or moves it to its new deadline; true if it is now the earliest. */
  boolean put(Timer.Entry node) {
    if (node.heapIndex < 0) {
      if (heap == null) heap = new Timer.Entry[16];
      else if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
      node.heapIndex = size;
      heap[size++] = node;
      siftUp(node.heapIndex);
    } else {
      siftUp(node.heapIndex);
      siftDown(node.heapIndex);
    }
    return heap[0] == node;
  }

  /** Removes {@code node} if it is here. */
  void remove(Timer.Entry node) {
    if (node.heapIndex >= 0) removeAt(node.heapIndex);
  }

  /**
   * Removes every entry whose deadline is at or before {@code now}, appending it to {@code out}
   * (grown as needed); returns the array.
   */
  Timer.Entry[] takeExpired(long now, Timer.Entry[] out, int[] count) {
    while (size > 0 && heap[0].deadlineNanos - now <= 0) {
      if (out == null) out = new Timer.Entry[Math.min(size, 64)];
      if (count[0] == out.length) out = Arrays.copyOf(out, out.length * 2);
      out[count[0]++] = heap[0];
      removeAt(0);
    }
    return out;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** The earliest deadline; only if not {@link #isEmpty()}. */
  long earliest() {
    return heap[0].deadlineNanos;
  }

  int size() {
    return size;
  }

  private void removeAt(int i) {
    Timer.Entry removed = heap[i];
    removed.heapIndex = -1;
    int last = --size;
    if (i != last) {
      Timer.Entry moved = heap[last];
      heap[i] = moved;
      moved.heapIndex = i;
      heap[last] = null;
      siftUp(i);
      siftDown(moved.heapIndex);
    } else {
      heap[last] = null;
    }
  }

  private void siftUp(int i) {
    Timer.Entry node = heap[i];
    while (i > 0) {
      int p = (i - 1) >>> 1;
      Timer.Entry parent = heap[p];
      if (node.deadlineNanos - parent.deadlineNanos >= 0) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = node;
    node.heapIndex = i;
  }

  private void siftDown(int i) {
    Timer.Entry node = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int c = 2 * i + 1;
      Timer.Entry child = heap[c];
      int r = c + 1;
      if (r < size && heap[r].deadlineNanos - child.deadlineNanos < 0) child = heap[c = r];
      if (node.deadlineNanos - child.deadlineNanos <= 0) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = node;
    node.heapIndex = i;
  }
}
