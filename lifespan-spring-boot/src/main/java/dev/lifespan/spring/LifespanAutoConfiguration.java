package dev.lifespan.spring;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import jakarta.servlet.Filter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.support.DefaultLifecycleProcessor;
import org.springframework.core.env.Environment;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;
import org.springframework.util.ClassUtils;

/**
 * The auto-configuration of the starter: the Lifespan application of the context and the beans
 * around it. Off with {@code lifespan.enabled=false}; every bean backs off when the application
 * declares its own of that name or type.
 *
 * <table>
 *   <caption>Beans</caption>
 *   <tr><th>bean</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@code lifespanApplication}</td><td>{@link LifespanApplication}</td>
 *       <td>the in-process Lifespan application, started when the bean is made</td></tr>
 *   <tr><td>{@code lifespanSupervisor}</td><td>{@link Supervisor}</td>
 *       <td>its supervisor (unless the application declares a {@code Supervisor} bean of its own,
 *       which is then stopped in the same phase)</td></tr>
 *   <tr><td>{@code applicationTaskExecutor}, alias {@code taskExecutor}</td>
 *       <td>{@link LifespanTaskExecutor}</td><td>must-finish; the default of {@code @Async}</td></tr>
 *   <tr><td>{@code lifespanCancellableTaskExecutor}</td><td>{@link LifespanTaskExecutor}</td>
 *       <td>cancelled at shutdown</td></tr>
 *   <tr><td>{@code taskScheduler}</td><td>{@code SimpleAsyncTaskScheduler}</td>
 *       <td>{@code @Scheduled} methods, each firing a must-finish task (unless the context has a
 *       {@code TaskScheduler} or {@code ScheduledExecutorService} of its own)</td></tr>
 *   <tr><td>{@code lifespanDrain}, {@code lifespanSupervisors}</td><td>{@code SmartLifecycle}</td>
 *       <td>the shutdown's phases</td></tr>
 *   <tr><td>{@code lifespanServletFilter}</td><td>{@code jakarta.servlet.Filter}</td>
 *       <td>servlet applications: requests run as the application's, and those in flight are
 *       named while the web server's graceful shutdown waits for them</td></tr>
 *   <tr><td>{@code lifespanWebServerStopWait}</td><td>{@code ApplicationListener}</td>
 *       <td>the web server's stop (Tomcat, Jetty) does not wait 5 s more for request threads that outlived the
 *       grace</td></tr>
 *   <tr><td>{@code lifespanEndpoint}</td><td>{@link LifespanEndpoint}</td>
 *       <td>with Actuator: the task dump</td></tr>
 * </table>
 *
 * <p>It runs before Spring Boot's task execution auto-configuration, which then backs off (it makes
 * its {@code applicationTaskExecutor} only when the context has no {@code Executor}). Metrics
 * (Micrometer) are not made here: a {@code MeterBinder} bean built from the {@code
 * lifespanApplication} bean belongs in an auto-configuration of its own, ordered after this one.
 */
@AutoConfiguration(
    beforeName = {
      "org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration",
      "org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration"
    })
@ConditionalOnProperty(
    prefix = "lifespan",
    name = "enabled",
    havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(LifespanProperties.class)
public final class LifespanAutoConfiguration {
  private static final Logger LOG = LoggerFactory.getLogger("dev.lifespan.spring");

  /**
   * A failure in a progress line, not a count of none ("0 failed" in a clean supervisor report),
   * and a task still running after its supervisor's shutdown ("1 still running").
   */
  private static final java.util.regex.Pattern WARNING =
      java.util.regex.Pattern.compile(
          "(?<![0-9])(?:[1-9][0-9]* (?:failed|still running))|failed[ :;]|FAILED");

  /** For Spring. */
  public LifespanAutoConfiguration() {}

  /**
   * The Lifespan application of this context, started and ready; the one line of a bad {@code
   * lifespan.*} setting fails the startup.
   */
  @Bean
  @ConditionalOnMissingBean
  public LifespanApplication lifespanApplication(
      LifespanProperties properties,
      Environment environment,
      ApplicationContext context,
      ObjectProvider<LifespanAppCustomizer> customizers) {
    properties.validate();
    String name = properties.getName();
    if (name.isBlank()) name = environment.getProperty("spring.application.name", "application");
    LifespanProperties.Shutdown s = properties.getShutdown();
    App.Options options =
        App.Options.named(name)
            .withGrace(s.getGrace())
            .withTeardownTimeout(s.getTeardownTimeout())
            .withKillTimeout(s.getKillTimeout())
            .withProgress(progressToLog());
    for (LifespanAppCustomizer c : customizers.orderedStream().toList()) {
      options = c.customize(options);
    }
    options.validate();
    List<Lifespan> outer = new ArrayList<>();
    if (ClassUtils.isPresent("dev.lifespan.jdbc.Journal", context.getClassLoader())) {
      outer.addAll(JournalLayers.of(context));
    }
    Runnable close = context instanceof ConfigurableApplicationContext c ? c::close : () -> {};
    return new LifespanApplication(options, s.getDrainDelay(), outer, context, close);
  }

  /** The application's progress lines, into the log: stragglers and abandoned work at WARN. */
  static Consumer<String> progressToLog() {
    return line -> {
      if (warns(line)) {
        LOG.warn(line);
      } else {
        LOG.info(line);
      }
    };
  }

  /** Whether a progress line says something went wrong: logged at WARN, the others at INFO. */
  static boolean warns(String line) {
    return line.contains("straggler") || line.contains("abandoned") || WARNING.matcher(line).find();
  }

  /** The application's supervisor, unless the context has a {@code Supervisor} of its own. */
  @Bean(destroyMethod = "")
  @ConditionalOnMissingBean(Supervisor.class)
  public Supervisor lifespanSupervisor(LifespanApplication application) {
    return application.supervisor();
  }

  /** The must-finish executor, the default of {@code @Async}. */
  @Bean(name = {"applicationTaskExecutor", "taskExecutor"})
  @ConditionalOnMissingBean(name = "applicationTaskExecutor")
  public LifespanTaskExecutor applicationTaskExecutor(LifespanApplication application) {
    return LifespanTaskExecutor.mustFinish("applicationTaskExecutor", application);
  }

  /** The executor whose tasks are cancelled at shutdown. */
  @Bean
  @ConditionalOnMissingBean(name = "lifespanCancellableTaskExecutor")
  public LifespanTaskExecutor lifespanCancellableTaskExecutor(LifespanApplication application) {
    return LifespanTaskExecutor.cancellable("lifespanCancellableTaskExecutor", application);
  }

  /**
   * The scheduler of {@code @Scheduled} methods: Spring's {@link SimpleAsyncTaskScheduler}, whose
   * triggers wait on a virtual thread and whose every firing (fixed delay, fixed rate, cron or
   * once) runs on {@code applicationTaskExecutor}, so as a must-finish task of the application. It
   * stops in the supervisors' phase: triggers fire while the web server drains, and a firing
   * running at the stop finishes within the grace, not interrupted ({@link LifespanTaskScheduler}).
   * Boot's own scheduler backs off; one of the application's ({@code TaskScheduler} or {@code
   * ScheduledExecutorService}) replaces this one.
   */
  @Bean(name = "taskScheduler")
  @ConditionalOnMissingBean({TaskScheduler.class, ScheduledExecutorService.class})
  public SimpleAsyncTaskScheduler taskScheduler(
      @Qualifier("applicationTaskExecutor") Executor applicationTaskExecutor) {
    return new LifespanTaskScheduler(applicationTaskExecutor);
  }

  /** The first phase of the shutdown: readiness drops, the web server keeps serving. */
  @Bean
  public SmartLifecycle lifespanDrain(LifespanApplication application) {
    return new ShutdownPhases.Drain(application);
  }

  /** The supervisors' phase: after the web server stopped, before the singletons are destroyed. */
  @Bean
  public SmartLifecycle lifespanSupervisors(
      LifespanApplication application, ObjectProvider<Supervisor> supervisors) {
    return new ShutdownPhases.Supervisors(
        application,
        () -> supervisors.orderedStream().filter(x -> x != application.supervisor()).toList());
  }

  /** Spring's readiness into the Lifespan application, and back. */
  @Bean
  public ApplicationListener<AvailabilityChangeEvent<?>> lifespanReadinessBridge(
      LifespanApplication application) {
    return new ReadinessBridge(application);
  }

  /**
   * Spring's timeouts of the shutdown phases, fitted to the budget: the web server's graceful
   * shutdown gets what is left of the grace period after the drain delay, and Spring's default
   * phase, in which the drain runs, at least the drain delay and a second. Made before any other
   * bean, so it also checks the {@code lifespan.*} settings first: a bad one stops the startup
   * before the web server is created, with its one line.
   */
  @Bean
  public static BeanPostProcessor lifespanShutdownPhaseTimeouts(Environment environment) {
    Binder binder = Binder.get(environment);
    LifespanProperties p =
        binder.bind("lifespan", LifespanProperties.class).orElseGet(LifespanProperties::new);
    p.validate();
    Duration perPhase =
        binder
            .bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
            .orElse(Duration.ofSeconds(30));
    return new BeanPostProcessor() {
      @Override
      public Object postProcessBeforeInitialization(Object bean, String beanName)
          throws BeansException {
        if (bean instanceof DefaultLifecycleProcessor processor) fit(processor, p, perPhase);
        return bean;
      }
    };
  }

  static void fit(DefaultLifecycleProcessor processor, LifespanProperties p, Duration perPhase) {
    Duration grace = p.getShutdown().getGrace();
    Duration drain = p.getShutdown().getDrainDelay();
    Duration drainPhase = drain.plusSeconds(1);
    processor.setTimeoutForShutdownPhase(
        LifespanApplication.DRAIN_PHASE,
        (perPhase.compareTo(drainPhase) >= 0 ? perPhase : drainPhase).toMillis());
    processor.setTimeoutForShutdownPhase(
        LifespanApplication.GRACEFUL_SHUTDOWN_PHASE, grace.minus(drain).toMillis());
  }

  /** The web server's stop (Tomcat, Jetty) waits no more for request threads past the grace. */
  @Bean
  public ApplicationListener<ApplicationStartedEvent> lifespanWebServerStopWait() {
    return new WebServerStopWait();
  }

  /** Servlet applications: every request runs as the application's. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass(name = "jakarta.servlet.Filter")
  static class ServletConfiguration {
    /** The filter. */
    @Bean
    @ConditionalOnMissingBean(name = "lifespanServletFilter")
    public Filter lifespanServletFilter(LifespanApplication application) {
      return new LifespanServletFilter(application);
    }
  }

  /** With Actuator: the task dump endpoint. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  static class EndpointConfiguration {
    /** The endpoint. */
    @Bean
    @ConditionalOnMissingBean
    public LifespanEndpoint lifespanEndpoint(LifespanApplication application) {
      return new LifespanEndpoint(application);
    }
  }
}
