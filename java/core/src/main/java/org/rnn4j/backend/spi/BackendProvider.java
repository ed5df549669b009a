package org.rnn4j.backend.spi;

import org.rnn4j.backend.*;
import java.util.List;

/**
 * A kind of backend rnn4j can run on. The CPU provider is built in; others (the CUDA backend) are found with
 * {@link java.util.ServiceLoader}, so that the core does not depend on them.
 */
public interface BackendProvider {

    /**
     * Whether a provider can run here, why not when it cannot, and what it found (one line per device).
     *
     * @param usable  whether {@link BackendProvider#create} will work
     * @param reason  one line for people: a summary of what was found when usable, else why it cannot run
     * @param details what the probe found, one line per device (empty when unusable)
     */
    record Availability(boolean usable, String reason, List<String> details) {
        /**
         * Keeps an unmodifiable copy of {@code details}.
         *
         * @param usable  whether {@link BackendProvider#create} will work
         * @param reason  the summary, or why not
         * @param details one line per device found, not null
         */
        public Availability {
            details = List.copyOf(details);
        }

        /**
         * A provider that can run here.
         *
         * @param summary one line on what it will run on
         * @param details one line per device found
         * @return the availability
         */
        public static Availability usable(String summary, List<String> details) {
            return new Availability(true, summary, details);
        }

        /**
         * A provider that cannot run here.
         *
         * @param reason why, in one line for people (no driver, no device, ...)
         * @return the availability, with no details
         */
        public static Availability unusable(String reason) {
            return new Availability(false, reason, List.of());
        }
    }

    /**
     * The name given to {@code --backend}, and {@link Backend#name()} of what {@link #create} makes.
     *
     * @return the name, lower case: {@code cpu}, {@code cuda}
     */
    String name();

    /**
     * Higher is preferred by {@code --backend auto} among usable providers.
     *
     * @return the priority (the CPU's is the lowest)
     */
    int priority();

    /**
     * Probes once and remembers the answer; never throws.
     *
     * @return whether this provider can run here, and why not
     */
    Availability availability();

    /**
     * A new backend in the given precision.
     *
     * @param precision the element format of its buffers
     * @return the backend, which the caller must close
     * @throws IllegalStateException when {@link #availability()} is not usable
     */
    Backend create(Precision precision);
}
