//! `wxcs rules check --rules FILE` and `wxcs rules explain --rules FILE --uid U --roles R OP
//! PATH`: the rules as `serve` would load them, and the decision on one operation with the
//! rule that made it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use wx_cloud_storage_server::backend::{Identity, Op};

use super::{invalid, policy::read_rules};

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Check a rules file as `wxcs serve --rules` loads it; print its folders.
    Check {
        /// The rules file.
        #[arg(long, env = "WXCS_RULES")]
        rules: PathBuf,
    },
    /// Whether a caller may do an operation on a path, and the rule that decides.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The rules file.
    #[arg(long, env = "WXCS_RULES")]
    rules: PathBuf,
    /// The caller's user ID [default: not signed in].
    #[arg(long)]
    uid: Option<String>,
    /// The caller's roles, comma-separated.
    #[arg(long, value_delimiter = ',')]
    roles: Vec<String>,
    /// upload, read, delete or list.
    op: String,
    /// The path (for upload, as a page asks for it) or the key.
    path: String,
}

/// Runs the subcommand: exit status 0 for a valid file or an allowed operation.
pub(crate) fn run(command: RulesCommand) -> std::io::Result<()> {
    match command {
        RulesCommand::Check { rules } => {
            let loaded = read_rules(&rules).map_err(invalid)?;
            println!("{}: {} folders, most specific first", rules.display(), loaded.folders().len());
            for folder in loaded.folders() {
                let who: Vec<String> = Op::ALL
                    .iter()
                    .map(|op| format!("{} = {}", op.as_str(), folder.permission(*op).describe()))
                    .collect();
                println!("  {:<28} {} ({})", folder.pattern.as_str(), who.join(", "), folder.source);
            }
            Ok(())
        }
        RulesCommand::Explain(args) => {
            let loaded = read_rules(&args.rules).map_err(invalid)?;
            let op = Op::parse(&args.op).ok_or_else(|| {
                invalid(format!("{:?}: the operations are upload, read, delete and list", args.op))
            })?;
            let caller = args.uid.map(|uid| Identity { uid, roles: args.roles });
            let (allowed, text) = loaded.explain(op, &args.path, caller.as_ref());
            print!("{text}");
            if allowed {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
    }
}
