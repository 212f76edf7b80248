/**
 * Micrometer metrics for Lifespan: {@link dev.lifespan.micrometer.LifespanMetrics} for tasks,
 * services, shutdowns and stragglers, {@link dev.lifespan.micrometer.JournalMetrics} for a journal.
 */
package dev.lifespan.micrometer;
