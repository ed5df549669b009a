package org.rnn4j.cuda;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a constructor has created so far, as the actions that undo it: each resource's release is pushed right after
 * the resource is created, and {@link #runAll} releases them last first. So a constructor that fails half way
 * releases exactly what it made, and {@code close} releases everything in the reverse order of creation.
 */
final class Cleanup {

    private final Deque<Runnable> undo = new ArrayDeque<>();

    /** Registers the release of a resource just created. */
    void push(Runnable release) {
        undo.push(release);
    }

    /** How many releases are registered and not yet run. */
    int size() {
        return undo.size();
    }

    /**
     * Runs every release, the last pushed first, each once; a release that throws does not stop the others. The first
     * failure is rethrown at the end, with the later ones as suppressed exceptions.
     */
    void runAll() {
        Throwable first = null;
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException | Error e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first instanceof Error err) {
            throw err;
        }
    }

    /**
     * {@link #runAll} after {@code failure} (the reason the constructor gives up): every release runs, and what they
     * throw is added to {@code failure} as suppressed, so the original problem is the one reported.
     */
    void runAllAfter(Throwable failure) {
        try {
            runAll();
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
            for (Throwable s : e.getSuppressed()) {
                failure.addSuppressed(s);
            }
        }
    }
}
