package dev.lifespan.internal;

import dev.lifespan.Lifespan;
import java.util.ArrayList;
import java.util.List;

/** The {@link Lifespan} implementations behind {@code Lifespan.named} and {@code Lifespan.of}. */
public final class Layers {
  private Layers() {}

  /** A named layer. */
  public record Named(String name, Lifespan layer) implements Lifespan {
    @Override
    public void run(Context ctx) throws Exception {
      layer.run(ctx);
    }
  }

  /** Layers nested in order. */
  public record Composite(List<Lifespan> layers) implements Lifespan {
    @Override
    public void run(Context ctx) {
      throw new UnsupportedOperationException(
          "Lifespan.of(...) is run by App, which runs its layers one inside the other");
    }
  }

  /** A layer to run, with its name resolved. */
  record Layer(String name, Lifespan body) {}

  /** {@code lifespan} as a flat list of named layers, outermost first. */
  static List<Layer> flatten(Lifespan lifespan) {
    List<Lifespan> out = new ArrayList<>();
    add(lifespan, out);
    List<Layer> layers = new ArrayList<>(out.size());
    for (int i = 0; i < out.size(); i++) {
      Lifespan l = out.get(i);
      String n = l.name();
      layers.add(new Layer(n != null ? n : "layer-" + (i + 1), l));
    }
    return layers;
  }

  private static void add(Lifespan l, List<Lifespan> out) {
    if (l instanceof Composite c) {
      for (Lifespan x : c.layers()) add(x, out);
    } else {
      out.add(l);
    }
  }
}
