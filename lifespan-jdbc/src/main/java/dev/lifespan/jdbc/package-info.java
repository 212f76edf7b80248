/**
 * Durable must-finish work: {@link dev.lifespan.jdbc.Journal}, its {@link dev.lifespan.jdbc.Kind}s
 * and {@link dev.lifespan.jdbc.Entry entries}.
 */
package dev.lifespan.jdbc;
