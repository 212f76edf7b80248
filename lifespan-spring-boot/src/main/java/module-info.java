/**
 * Lifespan for Spring Boot: the auto-configuration that runs an in-process Lifespan application
 * alongside each Spring application context, with its shutdown phases in Spring's stop order; see
 * {@link dev.lifespan.spring}.
 *
 * <p>Spring Boot, Spring Framework, SLF4J, the Servlet API and Actuator are the application's: this
 * module requires them statically (they are compiled against, never brought in), so that an
 * application without Actuator or a servlet container still runs. Spring reads the configuration
 * classes reflectively, hence the package is open.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.lifespan.spring {
  requires transitive dev.lifespan;
  requires static dev.lifespan.jdbc;
  requires static java.sql;
  requires static spring.core;
  requires static spring.beans;
  requires static spring.context;
  requires static spring.boot;
  requires static spring.boot.autoconfigure;
  requires static spring.boot.actuator;
  requires static jakarta.servlet;
  requires static org.slf4j;

  exports dev.lifespan.spring;

  opens dev.lifespan.spring;
}
