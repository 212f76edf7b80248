@file:JvmName("CoroutinePeers")

package dev.lifespan.bench

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

// The kotlinx-coroutines peers, called from the Java JMH classes so that every peer of one
// benchmark is reported in the same table.

/** Spawn + join of [n] trivial coroutines on Dispatchers.Default; returns [n]. */
fun spawnJoin(n: Int): Int =
    runBlocking(Dispatchers.Default) {
        coroutineScope { repeat(n) { launch {} } }
        n
    }

/**
 * [n] enter/exit pairs of `withTimeout(10 s)` whose timeout never fires, in one `runBlocking`
 * event loop on the calling thread (the cheapest setting: the timeout is a delayed task in that
 * loop's own queue). Returns the sum of the bodies' results, so that nothing is dead code.
 */
fun withTimeoutOnEventLoop(n: Int, value: Long): Long =
    runBlocking {
        var acc = 0L
        repeat(n) { acc += withTimeout(10_000L) { value } }
        acc
    }

/**
 * Like [withTimeoutOnEventLoop], but on Dispatchers.Default, where the timeout is scheduled on
 * kotlinx's shared DefaultExecutor thread: the setting of a typical server coroutine.
 */
fun withTimeoutOnDefault(n: Int, value: Long): Long =
    runBlocking(Dispatchers.Default) {
        var acc = 0L
        repeat(n) { acc += withTimeout(10_000L) { value } }
        acc
    }
