package org.rnn4j.backend.spi;

import org.rnn4j.backend.*;
import java.util.List;

/**
 * A kind of backend rnn4j can run on. The CPU provider is built in; others (the CUDA backend) are found with
 * {@link java.util.ServiceLoader}, so that the core does not depend on them.
 */
public interface BackendProvider {

    /** Whether a provider can run here, why not when it cannot, and what it found (one line per device). */
    record Availability(boolean usable, String reason, List<String> details) {
        public Availability {
            details = List.copyOf(details);
        }

        public static Availability usable(String summary, List<String> details) {
            return new Availability(true, summary, details);
        }

        public static Availability unusable(String reason) {
            return new Availability(false, reason, List.of());
        }
    }

    /** The name given to {@code --backend}. */
    String name();

    /** Higher is preferred by {@code --backend auto} among usable providers. */
    int priority();

    /** Probes once and remembers the answer; never throws. */
    Availability availability();

    /**
     * A new backend in the given precision.
     *
     * @throws IllegalStateException when {@link #availability()} is not usable
     */
    Backend create(Precision precision);
}
