"""A real PTB Application polling the sandbox: /start, a button press, the edit."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox import BotApiServer


async def test_polling_round_trip(server: BotApiServer, make_app) -> None:
    app = make_app()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        payload = " ".join(context.args or [])
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Yes", callback_data="yes"),
                    InlineKeyboardButton("No", callback_data="no"),
                ]
            ]
        )
        await update.message.reply_html(f"<b>Hello</b> {payload or 'you'}!", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Noted")
        await query.edit_message_text(f"You said <i>{query.data}</i>", parse_mode="HTML")

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    marie = server.create_user("Marie", language_code="fr")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        try:
            await marie.send_text("/start l42")
            greeting = await marie.wait_for_bot_message()
            assert greeting.text == "Hello l42!"
            assert greeting.html == "<b>Hello</b> l42!"
            assert greeting.button_labels == ["Yes", "No"]

            await marie.press("Yes")
            edited = await marie.wait_for_bot_message(include_edits=True)
            assert edited.id == greeting.id
            assert edited.html == "You said <i>yes</i>"
            assert edited.inline_keyboard == []  # an edit without reply_markup drops it
            answer = await marie.wait_for_callback_answer()
            assert answer.text == "Noted"
        finally:
            await app.updater.stop()
            await app.stop()
    assert [m.id for m in marie.messages] == [1, 2]
    assert marie.messages[0].entities[0]["type"] == "bot_command"
    assert server.errors() == []
