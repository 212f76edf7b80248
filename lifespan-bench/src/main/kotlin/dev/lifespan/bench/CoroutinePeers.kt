@file:JvmName("CoroutinePeers")

package dev.lifespan.bench

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
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

/**
 * The peer of a long-lived Lifespan supervisor: a `CoroutineScope(SupervisorJob() +
 * Dispatchers.Default)` that lives as long as the benchmark. [spawnBatch] launches [n] trivial
 * children from the calling (non-coroutine) thread, as `Supervisor.spawn` is called, and then
 * waits for exactly those children, as `Supervisor.awaitIdle` waits for all.
 */
class SupervisorJobPeer {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** Launches [n] children that do nothing and joins them; returns [n]. */
    fun spawnBatch(n: Int): Int {
        val jobs = arrayOfNulls<Job>(n)
        for (i in 0 until n) jobs[i] = scope.launch {}
        runBlocking { for (j in jobs) j!!.join() }
        return n
    }

    /** Cancels the scope, ending the supervisor job. */
    fun close() = scope.cancel()
}
