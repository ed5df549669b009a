package org.rnn4j.text;

/** The training text is too short for one window of the batch; the message names the options to change. */
public class TextTooShortException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * The error.
     *
     * @param message one line, naming {@code --batch}, {@code --seq-len} and {@code --val-fraction}
     */
    public TextTooShortException(String message) {
        super(message);
    }
}
