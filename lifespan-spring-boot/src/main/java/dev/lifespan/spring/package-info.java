/**
 * Lifespan for Spring Boot: add the dependency, and a Spring Boot application gets a Lifespan
 * application per application context, with its shutdown phases in Spring's stop order.
 *
 * <h2>Why the two lifecycles are bridged</h2>
 *
 * A Spring Boot application keeps {@code SpringApplication.run} and Spring's own SIGTERM shutdown
 * hook; the starter adds an in-process Lifespan {@link dev.lifespan.App} ({@code App.start}, no
 * signal handlers) to each application context, and {@code SmartLifecycle} beans drive its phases
 * in Spring's stop order ({@link dev.lifespan.spring.LifespanApplication}). The alternative,
 * running the Spring application inside {@code App.runAndExit} as one layer, would own the process
 * (its signal handlers, its exit code) but change how every team starts its application and fight
 * Spring's shutdown hook, and it would still have to fit Spring's stop order. Spring's stop order
 * is already the right one — the web server's graceful shutdown, the web server's stop, the other
 * lifecycle beans, then the singletons destroyed, the {@code DataSource} last — and the
 * application's phases belong between its steps: the drain before the graceful shutdown, the
 * supervisors and the journal after the web server and before the {@code DataSource}. So a team
 * adds one dependency and nothing else changes. The price: the process's exit code stays Spring's
 * (143 after SIGTERM); the Lifespan application's outcome is its last log line and {@link
 * dev.lifespan.spring.LifespanApplication#result()}.
 *
 * <h2>What it gives</h2>
 *
 * <ul>
 *   <li>One shutdown budget, {@code lifespan.shutdown.grace}, counted from the first stop: a drain
 *       delay ({@code lifespan.shutdown.drain-delay}) in which readiness is already {@code
 *       REFUSING_TRAFFIC} (so {@code /actuator/health/readiness} answers 503) while the web server
 *       keeps serving, then the web server's graceful shutdown (Tomcat, Jetty), then the
 *       supervisors' must-finish work, each ending within the budget; Spring's per-phase timeouts
 *       are set to fit, and the web server's stop (Tomcat, Jetty) does not wait 5 s more for
 *       request threads that outlived the grace.
 *   <li>What the web server's graceful shutdown waits for, named in the log every second ({@code
 *       the web server's graceful shutdown waits for 1 request: 'POST /orders' from 10.0.0.7:51234
 *       for 12.0 s; 3.0 s of grace left}), and the requests still running when the web server has
 *       stopped.
 *   <li>Readiness both ways with Spring's {@code ApplicationAvailability}.
 *   <li>{@link dev.lifespan.Supervisor} beans and the {@code Journal} bean ({@code lifespan-jdbc})
 *       stopped after the web server, before the {@code DataSource} closes.
 *   <li>A must-finish and a cancellable {@link dev.lifespan.spring.LifespanTaskExecutor}, for
 *       {@code @Async} work.
 *   <li>The application's progress lines and straggler reports in the log (SLF4J, logger {@code
 *       dev.lifespan.spring}).
 *   <li>The task dump as the Actuator endpoint {@code lifespan} ({@link
 *       dev.lifespan.spring.LifespanEndpoint}), on loopback or the management port only.
 *   <li>{@link dev.lifespan.LifespanLocal}s per application context: requests, executor tasks and
 *       {@link dev.lifespan.spring.LifespanApplication#run} see the values of their own context.
 *   <li>Settings under {@code lifespan.*} ({@link dev.lifespan.spring.LifespanProperties}), with
 *       metadata for IDEs.
 * </ul>
 *
 * <h2>Spring Boot versions</h2>
 *
 * Built and tested against Spring Boot 4.0 (4.0.7, Spring Framework 7) and tested against Spring
 * Boot 3.5 (3.5.7, Spring Framework 6.2); Java 25. Every Spring dependency is the application's:
 * the starter declares them {@code provided} or optional.
 */
package dev.lifespan.spring;
