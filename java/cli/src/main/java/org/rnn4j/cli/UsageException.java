package org.rnn4j.cli;

/** Bad input found while running a command: reported as one line on stderr, exit code 2. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
