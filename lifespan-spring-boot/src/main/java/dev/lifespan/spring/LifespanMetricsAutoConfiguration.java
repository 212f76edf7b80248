package dev.lifespan.spring;

import dev.lifespan.jdbc.Journal;
import dev.lifespan.micrometer.JournalMetrics;
import dev.lifespan.micrometer.LifespanMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Lifespan's metrics, wired when the application has {@code lifespan-micrometer} and Micrometer on
 * its class path (Spring Boot Actuator brings Micrometer and binds every {@link MeterBinder} bean
 * to its registries): the {@code lifespan.tasks.*}, {@code lifespan.service.restarts}, {@code
 * lifespan.shutdown.phase} and {@code lifespan.stragglers} meters of the context's Lifespan
 * application, and the {@code lifespan.journal.*} meters of every {@link Journal} bean. See {@link
 * LifespanMetrics} and {@link JournalMetrics} for the meters and their tags.
 *
 * <p>The metrics observe only the context's own application (never process-wide), so two contexts
 * in one JVM count apart. Off with {@code lifespan.enabled=false} (with the rest of the starter);
 * an application's own {@code LifespanMetrics} bean replaces the one made here.
 */
@AutoConfiguration(after = LifespanAutoConfiguration.class)
@ConditionalOnClass({LifespanMetrics.class, MeterRegistry.class})
@ConditionalOnBean(LifespanApplication.class)
public final class LifespanMetricsAutoConfiguration {
  /** For Spring. */
  public LifespanMetricsAutoConfiguration() {}

  /** The meters of the context's Lifespan application; Spring Boot binds them to its registries. */
  @Bean
  @ConditionalOnMissingBean
  public LifespanMetrics lifespanMetrics() {
    return new LifespanMetrics();
  }

  /** Makes the context's Lifespan application report to {@code metrics}. */
  @Bean
  public LifespanAppCustomizer lifespanMetricsObserver(LifespanMetrics metrics) {
    return metrics::observe;
  }

  /** The journal meters, for applications with {@code lifespan-jdbc}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(Journal.class)
  static final class Journals {
    /** The meters of every {@link Journal} bean of the context. */
    @Bean
    MeterBinder lifespanJournalMetrics(ObjectProvider<Journal> journals) {
      return registry ->
          journals.orderedStream().forEach(j -> new JournalMetrics(j).bindTo(registry));
    }
  }
}
