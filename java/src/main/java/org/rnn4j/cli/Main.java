package org.rnn4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code rnn4j} command line. Exit codes: 0 success; 1 a check that did not pass, or a failure while running;
 * 2 bad input (one line on stderr naming the option, never a stack trace).
 */
@Command(name = "rnn4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Trains recurrent networks from Java: the seeds' binary-addition RNN and minimal LSTM.")
public final class Main implements Runnable {

    /**
     * The subcommands, in the order help lists them. Added by {@link #run} rather than named in the annotation:
     * picocli builds the model of every command it is given, by reflection, and for {@code train lstm} that was a
     * good part of the start; a command line whose first word names one of them gets that one only.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(TrainCommand.class, GradcheckCommand.class,
            DevicesCommand.class, CompareCommand.class, MemoryCommand.class, CommandLine.HelpCommand.class);

    /** Exit code for bad input. */
    public static final int USAGE = 2;
    /** Exit code for a failed check or a failure while running. */
    public static final int FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command (train, gradcheck, devices, compare; see rnn4j --help)");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns its exit code; for tests and {@link #main}. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        Class<?> named = null;
        for (Class<?> c : SUBCOMMANDS) {
            if (args.length > 0 && c.getAnnotation(Command.class).name().equals(args[0])) {
                named = c;
            }
        }
        for (Class<?> c : SUBCOMMANDS) {
            if (named == null || c == named) {
                cl.addSubcommand(c);
            }
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, ignored) -> {
            err.println("rnn4j: " + oneLine(ex.getMessage()));
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof UsageException) {
                err.println("rnn4j: " + oneLine(ex.getMessage()));
                return USAGE;
            }
            err.println("rnn4j: error: " + oneLine(describe(ex)));
            if (System.getenv("RNN4J_DEBUG") != null) {
                ex.printStackTrace(err);
            } else {
                err.println("rnn4j: (set RNN4J_DEBUG=1 for the stack trace)");
            }
            return FAILURE;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static String describe(Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            return "out of memory (" + ex.getMessage() + "); try smaller sizes or a larger -Xmx in JAVA_OPTS";
        }
        String message = ex.getMessage();
        return message == null ? ex.getClass().getSimpleName() : message;
    }

    private static String oneLine(String message) {
        if (message == null) {
            return "invalid input";
        }
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    /** {@code rnn4j --version}: the build's version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"rnn4j " + version(), "Java " + System.getProperty("java.version") + " ("
                    + System.getProperty("java.vm.name") + ")"};
        }
    }

    static String version() {
        Properties p = new Properties();
        try (InputStream in = Main.class.getResourceAsStream("/org/rnn4j/version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return p.getProperty("version", "unknown");
    }
}
