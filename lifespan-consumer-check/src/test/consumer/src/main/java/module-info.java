/** A Lifespan user on the module path: each published module is required by its module name. */
module example.consumer {
  requires dev.lifespan;
  requires dev.lifespan.http;
  requires dev.lifespan.jdbc;
  requires dev.lifespan.context;
  requires dev.lifespan.spring;
}
