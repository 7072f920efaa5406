use std::io::Read;

use anyhow::Context;
use clap::Parser;
use laihua::app::{prepare, Application};
use laihua::clock::Clock;
use laihua::config::{
    AuditCommand, Cli, Command, Config, KeysCommand, LogFormat, SmsCommand, StaffCommand,
};
use laihua::store::users::Role;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Bulk loading runs statements of thousands of rows that sqlx would report as slow.
    let default_filter = match cli.command {
        Some(Command::SeedSynthetic { .. }) => "info,sqlx=error",
        _ => "info,sqlx=warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    // Logs go to standard error (standard output carries what the commands print). A request's
    // lines carry its span, `request{request_id=…}` (see `web::request_id`).
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    match cli.command {
        None => serve(Config::new(&cli.common, cli.serve)).await,
        Some(Command::Serve(args)) => serve(Config::new(&cli.common, args)).await,
        Some(Command::Migrate) => {
            let config = Config::new(&cli.common, cli.serve);
            let (state, notes) = prepare(config, Clock::default()).await?;
            for n in notes {
                println!("{n}");
            }
            // Close the connections before exiting, so that SQLite checkpoints its log and
            // removes the `-wal` and `-shm` files (the process would otherwise end first).
            state.db.pool.close().await;
            println!("数据库已是最新 / database is up to date");
            Ok(())
        }
        Some(Command::SeedSynthetic {
            units,
            groups,
            seed,
            years,
            batch,
        }) => {
            let mut serve = cli.serve;
            // The generator needs a county account per district and a city account.
            serve.demo = true;
            let config = Config {
                bulk: true,
                ..Config::new(&cli.common, serve)
            };
            let (state, notes) = prepare(config, Clock::default()).await?;
            for n in notes {
                println!("{n}");
            }
            let options = laihua::synth::Options {
                years,
                batch,
                ..laihua::synth::Options::new(units, groups, seed, state.now())
            };
            let summary = laihua::synth::generate(
                &state.db,
                &state.files,
                &state.keys,
                &options,
                &mut |line: String| println!("{line}"),
            )
            .await?;
            println!("rows per table:");
            for (table, n) in &summary.tables {
                println!("  {table:<18} {n:>10}");
            }
            println!("groups per state:");
            for (s, n) in &summary.states {
                println!("  {s:<18} {n:>10}");
            }
            for line in summary.sample_lines() {
                println!("{line}");
            }
            println!("elapsed {:.1} s", summary.seconds);
            Ok(())
        }
        Some(Command::Audit {
            command: AuditCommand::Verify,
        }) => {
            let config = Config::new(&cli.common, cli.serve);
            let db = laihua::db::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            // The keyed part of the chain is checked with the audit key of the key file.
            laihua::keys::KeyRing::open(&db, &config.data_key_file, Clock::default().ts()).await?;
            match laihua::store::audit::verify(&db.pool).await? {
                laihua::store::audit::Verdict::Intact(n) => {
                    let keyed = laihua::store::audit::keyed_entries(&db.pool).await?;
                    println!(
                        "审计日志完整 / audit log intact: {n} entries checked (SHA-256 chain), {keyed} of them with a keyed link (HMAC-SM3)"
                    );
                    Ok(())
                }
                laihua::store::audit::Verdict::Broken(id, why) => {
                    eprintln!(
                        "审计日志被篡改 / audit log tampered: entry {id}: {}",
                        why.message()
                    );
                    std::process::exit(1);
                }
            }
        }
        Some(Command::Sms {
            command: SmsCommand::Templates { numbered },
        }) => {
            print!("{}", laihua::sms::templates::listing(numbered));
            Ok(())
        }
        Some(Command::Sms {
            command: SmsCommand::Check,
        }) => {
            let config = Config::new(&cli.common, cli.serve);
            let sender = laihua::app::sms_sender(&config, &Clock::default())?;
            println!(
                "短信配置无误 / the SMS configuration is complete: {}",
                sender.name()
            );
            Ok(())
        }
        Some(Command::Keys {
            command: KeysCommand::Rotate,
        }) => {
            let config = Config::new(&cli.common, cli.serve);
            let url = config.database_url.replace("mode=rwc", "mode=rw");
            let db = laihua::db::Db::connect(&url).await?;
            db.migrate().await?;
            let now = Clock::default().ts();
            let keys = std::sync::Arc::new(
                laihua::keys::KeyRing::open(&db, &config.data_key_file, now).await?,
            );
            let files = laihua::backup::file_store(&config)?.sealed_with(keys.clone());
            let (n, sealed) = laihua::workflow::sealing::rotate(&db, &files, &keys, now).await?;
            println!(
                "新数据密钥 data{n} 已写入 {} / new data key data{n} added to the key file",
                config.data_key_file.display()
            );
            let (visitors, stored) =
                laihua::store::sealed::unsealed_counts(&db.pool, i64::from(n)).await?;
            println!(
                "已重新加密 / sealed under data{n}: {} visitors, {} files; not yet: {visitors} visitors, {stored} files; failed: {}",
                sealed.visitors, sealed.files, sealed.failed
            );
            if sealed.failed > 0 || visitors > 0 || stored > 0 {
                eprintln!("部分数据未能重新加密，见上文 / some data is not sealed under the new key: see the log; the server's hourly sealing job tries again");
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Command::Backup {
            to,
            verify,
            test_pause_ms,
        }) => match (to, verify) {
            (_, Some(path)) => laihua::backup::command_verify(&path),
            (Some(to), None) => {
                let config = Config::new(&cli.common, cli.serve);
                let pause = std::time::Duration::from_millis(test_pause_ms);
                laihua::backup::command_backup(config, &to, pause).await
            }
            (None, None) => anyhow::bail!("give --to PATH or --verify PATH"),
        },
        Some(Command::Restore { from }) => {
            let config = Config::new(&cli.common, cli.serve);
            laihua::backup::command_restore(config, &from).await
        }
        Some(Command::Staff {
            command:
                StaffCommand::Add {
                    role,
                    login,
                    district,
                    name,
                },
        }) => {
            let role = match Role::parse(&role) {
                Some(r) if r != Role::Unit => r,
                _ => anyhow::bail!("--role must be county, city or admin"),
            };
            let config = Config::new(&cli.common, cli.serve);
            let (state, _) = prepare(config, Clock::default()).await?;
            let district_id = match (role, district) {
                (Role::County, Some(d)) => Some(
                    laihua::store::reference::district_by_name(state.pool(), &d)
                        .await?
                        .with_context(|| format!("no district named {d}"))?,
                ),
                (Role::County, None) => anyhow::bail!("a county account needs --district"),
                (_, _) => None,
            };
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            laihua::domain::Password::parse(password, &login)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let name = name.unwrap_or_else(|| login.clone());
            let created = laihua::seed::create_staff(
                &state.db,
                role,
                &login,
                district_id,
                &name,
                password,
                false,
                state.now(),
            )
            .await?;
            anyhow::ensure!(created, "login ID {login} is already taken");
            println!("已创建 / created: {login} ({})", role.label());
            Ok(())
        }
        Some(Command::Staff {
            command: StaffCommand::Reset2fa { login },
        }) => {
            let config = Config::new(&cli.common, cli.serve);
            let (state, _) = prepare(config, Clock::default()).await?;
            match laihua::workflow::second_factor::reset_from_command_line(&state, &login).await {
                Ok(Some(true)) => {
                    println!("已重置两步验证 / second factor removed: {login}");
                    Ok(())
                }
                Ok(Some(false)) => {
                    println!("该帐号没有启用两步验证 / {login} had no second factor");
                    Ok(())
                }
                Ok(None) => anyhow::bail!("no account with the login ID {login}"),
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let clock = match &config.serve.test_clock_file {
        Some(path) => {
            tracing::warn!("test clock enabled: offset read from {}", path.display());
            Clock::with_offset_file(path.clone())
        }
        None => Clock::default(),
    };
    let app = Application::build(config, clock).await?;
    for n in &app.notes {
        println!("{n}");
    }
    println!(
        "laihua 已启动 / listening on http://{}",
        app.listener.local_addr()?
    );
    app.run().await
}
