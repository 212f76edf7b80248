package dev.lifespan.spring;

import dev.lifespan.App;

/**
 * Changes the options of the Lifespan application before it starts: a bean of this type is applied
 * to the options made from the {@code lifespan.*} properties, in bean order, for what the
 * properties do not say — a {@code ContextPropagator} ({@code lifespan-context}), exit codes, or a
 * fake clock in tests.
 *
 * {@snippet :
 * @Bean
 * LifespanAppCustomizer carryMdc() {
 *     return options -> options.withContextPropagator(MicrometerContext.propagator());
 * }
 * }
 */
@FunctionalInterface
public interface LifespanAppCustomizer {
  /** Returns {@code options} changed; they are validated after every customizer ran. */
  App.Options customize(App.Options options);
}
