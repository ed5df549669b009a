package org.rnn4j.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code rnn4j help [COMMAND...]}: the usage of a command at any depth ({@code help train lstm}), where picocli's own
 * help command looks at its first word only.
 */
@Command(name = "help", helpCommand = true,
        description = "Show the usage of a command, for example: rnn4j help train lstm.")
final class HelpCommand implements CommandLine.IHelpCommandInitializable2, Runnable {

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command, with its subcommands.")
    List<String> commands = new ArrayList<>();

    private CommandLine self;
    private CommandLine.Help.ColorScheme colors;
    private java.io.PrintWriter out;

    @Override
    public void init(CommandLine helpCommandLine, CommandLine.Help.ColorScheme colorScheme,
                     java.io.PrintWriter outWriter, java.io.PrintWriter errWriter) {
        this.self = helpCommandLine;
        this.colors = colorScheme;
        this.out = outWriter;
    }

    @Override
    public void run() {
        CommandLine target = self.getParent();
        for (String name : commands) {
            CommandLine sub = target.getSubcommands().get(name);
            if (sub == null) {
                throw new CommandLine.ParameterException(self, "help: unknown command '"
                        + String.join(" ", commands) + "' (" + target.getCommandName() + " has "
                        + (target.getSubcommands().isEmpty() ? "no subcommands"
                                : "the subcommands " + String.join(", ", target.getSubcommands().keySet())) + ")");
            }
            target = sub;
        }
        target.usage(out, colors);
    }
}
