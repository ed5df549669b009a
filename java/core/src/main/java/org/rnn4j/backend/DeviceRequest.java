package org.rnn4j.backend;

import java.util.Locale;

/** What {@link Device#open} is asked for: the best available backend, the CPU, or CUDA. */
public enum DeviceRequest {
    /** CUDA when a usable GPU backend is on the class path, else the CPU, saying why. */
    AUTO,
    /** The CPU backend, always available. */
    CPU,
    /** The CUDA backend; {@link Device#open} throws {@link DeviceUnavailableException} when it cannot run here. */
    CUDA;

    /** @return the name as {@code --backend} takes it: {@code auto}, {@code cpu} or {@code cuda} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code auto}, {@code cpu} or {@code cuda}, ignoring case.
     *
     * @param name the name
     * @return the request
     * @throws IllegalArgumentException naming the accepted values
     */
    public static DeviceRequest parse(String name) {
        for (DeviceRequest r : values()) {
            if (r.cliName().equals(name == null ? null : name.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (expected auto, cpu or cuda)");
    }
}
