package org.rnn4j.io;

/**
 * A file (or a value read from one) is not what it should be: a safetensors file that breaks the format, or a
 * checkpoint value that is not valid. The message is one line; when a file is known it starts with the file's path.
 */
public class CheckpointFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    /** The file, as the user named it, or null. */
    private final String file;
    /** What is wrong, without the file's name. */
    private final String problem;

    /**
     * A problem in a file.
     *
     * @param file the file as the user named it, or null when unknown (the message is then the problem alone)
     * @param problem what is wrong, one line, without the file's name
     */
    public CheckpointFormatException(String file, String problem) {
        super(file == null ? problem : file + ": " + problem);
        this.file = file;
        this.problem = problem;
    }

    /**
     * A problem in a value whose file is not known here; see {@link #inFile}.
     *
     * @param problem what is wrong, one line
     */
    public CheckpointFormatException(String problem) {
        this(null, problem);
    }

    /**
     * The file the problem is in.
     *
     * @return the file as given, or null
     */
    public String file() {
        return file;
    }

    /**
     * What is wrong, without the file's name.
     *
     * @return the problem
     */
    public String problem() {
        return problem;
    }

    /**
     * The same problem, placed in a file and, optionally, in one of its parts.
     *
     * @param file the file as the user named it
     * @param where a prefix such as {@code "metadata 'vocabulary'"}, or null
     * @return a new exception whose message names the file (and the part)
     */
    public CheckpointFormatException inFile(String file, String where) {
        CheckpointFormatException e = new CheckpointFormatException(file,
                where == null ? problem : where + ": " + problem);
        e.initCause(this);
        return e;
    }
}
