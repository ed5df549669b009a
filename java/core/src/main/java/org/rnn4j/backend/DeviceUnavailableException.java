package org.rnn4j.backend;

/**
 * The backend asked of {@link Device#open} cannot run here; the message says why (no GPU backend on the class path,
 * no driver, no device, ...), in one line meant for people.
 */
public final class DeviceUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What was asked for (part of the serialized form). */
    private final DeviceRequest request;

    /**
     * @param request what was asked for
     * @param message why it cannot run here
     */
    public DeviceUnavailableException(DeviceRequest request, String message) {
        super(message);
        this.request = request;
    }

    /**
     * @param request what was asked for
     * @param message why it cannot run here
     * @param cause   the failure behind it
     */
    public DeviceUnavailableException(DeviceRequest request, String message, Throwable cause) {
        super(message, cause);
        this.request = request;
    }

    /** @return what was asked for */
    public DeviceRequest request() {
        return request;
    }
}
