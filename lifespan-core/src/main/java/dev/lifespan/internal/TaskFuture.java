package dev.lifespan.internal;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;

/** The future view: cancelling it cancels the task. */
final class TaskFuture<T> extends CompletableFuture<T> {
  private final TaskImpl<T> task;

  TaskFuture(TaskImpl<T> task) {
    this.task = task;
  }

  void settle() {
    switch (task.outcome()) {
      case TaskImpl.SUCCESS -> complete(task.value());
      case TaskImpl.FAILED -> {
        task.markObserved();
        completeExceptionally(task.failure());
      }
      default ->
          completeExceptionally(
              new CancellationException("Task '" + task.name() + "' was cancelled"));
    }
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    task.cancel();
    return super.cancel(mayInterruptIfRunning);
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }
}
