package org.rnn4j.text;

/** A training text cannot be used: missing, unreadable, not UTF-8, empty. The message is one line naming the path. */
public class TextCorpusException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * An error.
     *
     * @param message one line, naming the path
     */
    public TextCorpusException(String message) {
        super(message);
    }

    /**
     * An error with its cause.
     *
     * @param message one line, naming the path
     * @param cause what failed underneath
     */
    public TextCorpusException(String message, Throwable cause) {
        super(message, cause);
    }
}
