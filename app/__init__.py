"""The user-facing side: answers, CLI (`python -m app.ask`), Streamlit UI, batch evaluation."""
